"""What the IVR says, in English and Mandarin (short: under ~10 s each)."""

from __future__ import annotations

PROMPTS: dict[str, dict[str, str]] = {
    "en": {
        "welcome": "Thanks for calling {company}.",
        "recording_notice": "Calls are recorded to improve our service. To opt out, press 9.",
        "language_choice": "For English, press 1.",
        "how_help": "In a few words, how can I help you today? You can say agent at any time.",
        "opted_out": "OK, this call will not be recorded.",
        "did_you_mean": "Did you mean {label}? Say yes or press 1. Otherwise, say no or press 2.",
        "anything_else": "Is there anything else I can help with? Ask your question, or say no or press 2 to finish.",
        "not_understood": "Sorry, I'm not sure I understood.",
        "no_input": "Sorry, I didn't hear anything.",
        "options_intro": "You can ask about {options}.",
        "option_key": "For {label}, press {key}.",
        "menu_intro": "Let's try the keypad.",
        "alternatives": "OK. Was it {options}?",
        "rephrase_short": "Or say your question another way.",
        "out_of_scope": "I'm sorry, I can't answer that here. Let me connect you with one of our team; they will see what you asked.",
        "agent_key": "To speak to an agent, press 0.",
        "rephrase": "Please tell me again, in a few words, what you are calling about.",
        "transfer": "Let me put you through to one of our team. They will see what you told me, so you won't need to repeat it.",
        "transfer_priority": "I'm sorry this has been frustrating. I'm putting you straight through to one of our team, with priority.",
        "transfer_error": "Sorry, something went wrong on our side. Let me put you through to one of our team.",
        "transfer_self_service": "",
        "agents_busy": "Sorry, none of our team could take your call right now. Please call again later, or visit our website. Goodbye.",
        "goodbye": "Thanks for calling {company}. Goodbye.",
        "survey_csat": "Before you go: how satisfied were you with this call, from 1 to 5, where 5 is very satisfied?",
        "survey_nps": "And from 0 to 10, how likely are you to recommend {company} to a friend? Key in the number, then press hash.",
        "survey_thanks": "Thank you for your feedback. Goodbye.",
        "action_failed": "Sorry, I still couldn't find that.",
    },
    "zh": {
        "welcome": "感谢致电{company}。",
        "recording_notice": "为提升服务质量，通话将被录音；如不同意录音，请按9。",
        "language_choice": "普通话服务请按2。",
        "how_help": "请简单说一下您需要什么帮助。任何时候说人工即可转接客服。",
        "opted_out": "好的，本次通话不会录音。",
        "did_you_mean": "您是想咨询{label}吗？是请说是或按1，不是请说不是或按2。",
        "anything_else": "还有其他可以帮您的吗？请直接说您的问题；没有的话请说没有了，或按2结束。",
        "not_understood": "抱歉，我不太确定您的意思。",
        "no_input": "抱歉，我没有听到您的声音。",
        "options_intro": "您可以咨询{options}。",
        "option_key": "{label}请按{key}。",
        "menu_intro": "请使用按键选择。",
        "alternatives": "好的。您是想咨询{options}吗？",
        "rephrase_short": "也可以换个说法再说一遍您的问题。",
        "out_of_scope": "抱歉，这个问题我这里回答不了。现在为您转接客服，客服能看到您的问题。",
        "agent_key": "人工服务请按0。",
        "rephrase": "请再简单说一下您要咨询的问题。",
        "transfer": "现在为您转接人工客服，客服能看到您刚才说的内容，您不需要重复。",
        "transfer_priority": "很抱歉让您不愉快，现在优先为您转接人工客服。",
        "transfer_error": "抱歉，系统出了点问题，现在为您转接人工客服。",
        "transfer_self_service": "",
        "agents_busy": "抱歉，客服现在都在忙，请稍后再拨，或访问我们的网站。再见。",
        "goodbye": "感谢致电{company}，再见。",
        "survey_csat": "挂机前想请您评价：您对本次服务的满意度是几分？一到五分，五分最满意。",
        "survey_nps": "从零到十分，您有多大可能把{company}推荐给朋友？请输入分数后按井号键。",
        "survey_thanks": "感谢您的评价，再见。",
        "action_failed": "抱歉，还是没有查到。",
    },
}

LIST_JOINER = {"en": (", ", " or "), "zh": ("、", "或")}


def prompt(language: str, name: str, /, **values: str) -> str:
    """The prompt ``name`` in ``language`` (English when the language has no prompts)."""
    table = PROMPTS.get(language, PROMPTS["en"])
    return table.get(name, PROMPTS["en"].get(name, "")).format(**values)


def spoken_list(items: list[str], language: str) -> str:
    """ "a, b or c" / "a、b或c"."""
    sep, last = LIST_JOINER.get(language, LIST_JOINER["en"])
    if len(items) <= 1:
        return "".join(items)
    return sep.join(items[:-1]) + last + items[-1]
