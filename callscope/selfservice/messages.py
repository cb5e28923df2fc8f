"""What self-service says in writing (SMS, WhatsApp, help center), in English and Mandarin."""

from __future__ import annotations

from callscope.domain import FaqEntry
from callscope.ivr.kb import KnowledgeBase

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        # texts
        "greeting": (
            "Hi, this is {company}. Text your question in a few words (for example \"opening hours\") and "
            "I'll answer it. Reply AGENT to reach a person."
        ),
        "did_you_mean": "Did you mean:\n{options}\nReply with a number, or AGENT to reach a person.",
        "no_match": (
            "Sorry, I don't have an answer to that yet. You can ask about:\n{options}\n"
            "Reply with a number, or AGENT and one of our team will text you back."
        ),
        "no_match_plain": "Sorry, I don't have an answer to that yet. Reply AGENT and one of our team will text you back.",
        "bad_choice": "Please reply with a number from 1 to {n}, or AGENT to reach a person.",
        "handover": "Thanks, I've passed this conversation to our team. An agent will reply here as soon as possible.",
        "handover_call": " For urgent help, call {phone}.",
        "needs_agent": "I've passed this to our team; an agent will text you back here.",
        "closing": "You're welcome! Text us any time.",
        "help": (
            "{company} help: text your question and we'll answer it; reply AGENT to reach a person.{call} "
            "Msg & data rates may apply. Reply STOP to unsubscribe."
        ),
        "help_call": " Call us on {phone}.",
        "stop": "You're unsubscribed from {company} messages and won't get any more. Reply START to resubscribe.",
        "start": "You're resubscribed to {company} messages. Text your question any time, or HELP for help.",
        "order_ask": "Please reply with your order number: BW followed by six digits (it's in your confirmation e-mail).",
        "order_not_found": "I couldn't find order {id}. Please check the number and reply with it again, or AGENT to reach a person.",
        "error": "Sorry, something went wrong on our side. Please try again, or reply AGENT to reach a person.",
        # help center
        "hc_title": "{company} Help Center",
        "hc_search": "Search the help center",
        "hc_search_button": "Search",
        "hc_placeholder": "Ask a question, e.g. When are you open?",
        "hc_best": "Best answer",
        "hc_related": "Related questions",
        "hc_no_results": "We couldn't find an answer to “{q}”.",
        "hc_results_for": "Results for “{q}”",
        "hc_topics": "Browse by topic",
        "hc_helpful": "Was this helpful?",
        "hc_yes": "Yes",
        "hc_no": "No",
        "hc_thanks": "Thanks for your feedback!",
        "hc_thanks_no": "Thanks for telling us. An agent can help with the rest:",
        "hc_contact_title": "Still need help?",
        "hc_contact": "Contact an agent",
        "hc_call": "Call us on {phone}",
        "hc_text": "or text your question to {phone}",
        "hc_contact_page": "Contact our team",
        "hc_back": "All questions",
        "hc_also_asked": "People also ask",
        "hc_not_found": "This help article does not exist (any more).",
        "hc_language": "中文",
        "hc_needs_agent": "This one needs an agent: contact us and we'll sort it out.",
        "hc_other": "Other questions",
        "hc_contact_intro": "Our team is happy to help.",
        "hc_contact_none": "Please visit one of our stores.",
        "hc_skip": "Skip to content",
        "hc_topic_nav": "Topics",
        "hc_feedback_title": "Feedback",
        "hc_asked_as": "Also asked as",
        "hc_description": "Answers to common questions about {company}: orders, opening hours, accounts and more.",
    },
    "zh": {
        "greeting": "您好，这里是{company}。请用几个字发送您的问题（例如“营业时间”），我会为您解答。回复“人工”转人工客服。",
        "did_you_mean": "您是想问：\n{options}\n请回复编号，或回复“人工”转人工客服。",
        "no_match": "抱歉，这个问题暂时还没有答案。您可以咨询：\n{options}\n请回复编号，或回复“人工”，客服会通过消息回复您。",
        "no_match_plain": "抱歉，这个问题暂时还没有答案。回复“人工”，客服会通过消息回复您。",
        "bad_choice": "请回复1到{n}之间的编号，或回复“人工”转人工客服。",
        "handover": "好的，已为您转接人工客服，客服会尽快在这里回复您。",
        "handover_call": "如有急事请致电{phone}。",
        "needs_agent": "已为您转交人工客服，客服会在这里回复您。",
        "closing": "不客气！有问题随时发消息给我们。",
        "help": "{company}帮助：直接发送问题即可获得解答；回复“人工”转人工客服。{call}可能产生短信和流量费用。回复TD或STOP退订。",
        "help_call": "客服电话：{phone}。",
        "stop": "您已退订{company}的消息，我们不会再给您发送消息。回复START可重新订阅。",
        "start": "您已重新订阅{company}的消息。随时发送问题即可，回复HELP获取帮助。",
        "order_ask": "请回复您的订单号：BW加六位数字（在确认邮件里可以找到）。",
        "order_not_found": "没有找到订单{id}，请核对后重新发送订单号，或回复“人工”转人工客服。",
        "error": "抱歉，系统出了点问题。请再试一次，或回复“人工”转人工客服。",
        "hc_title": "{company}帮助中心",
        "hc_search": "搜索帮助中心",
        "hc_search_button": "搜索",
        "hc_placeholder": "输入您的问题，例如：几点开门？",
        "hc_best": "最佳答案",
        "hc_related": "相关问题",
        "hc_no_results": "没有找到“{q}”的答案。",
        "hc_results_for": "“{q}”的搜索结果",
        "hc_topics": "按主题浏览",
        "hc_helpful": "这篇内容对您有帮助吗？",
        "hc_yes": "有帮助",
        "hc_no": "没有帮助",
        "hc_thanks": "感谢您的反馈！",
        "hc_thanks_no": "感谢告知。人工客服可以继续帮您：",
        "hc_contact_title": "还需要帮助？",
        "hc_contact": "联系人工客服",
        "hc_call": "致电{phone}",
        "hc_text": "或发短信到{phone}提问",
        "hc_contact_page": "联系我们",
        "hc_back": "全部问题",
        "hc_also_asked": "大家还在问",
        "hc_not_found": "这篇帮助文章不存在或已下线。",
        "hc_language": "English",
        "hc_needs_agent": "这个问题需要人工客服处理，请联系我们。",
        "hc_other": "其他问题",
        "hc_contact_intro": "我们的客服很乐意为您服务。",
        "hc_contact_none": "请前往任意门店咨询。",
        "hc_skip": "跳到正文",
        "hc_topic_nav": "主题",
        "hc_feedback_title": "反馈",
        "hc_asked_as": "其他问法",
        "hc_description": "{company}常见问题解答：订单、营业时间、账户等。",
    },
}

TOPIC_NAMES: dict[str, dict[str, str]] = {
    "orders": {"en": "Orders", "zh": "订单"},
    "hours": {"en": "Opening hours", "zh": "营业时间"},
    "account": {"en": "Your account", "zh": "账户"},
    "delivery": {"en": "Delivery", "zh": "配送"},
    "returns": {"en": "Returns and refunds", "zh": "退换货"},
    "warranty": {"en": "Repairs and warranty", "zh": "维修与保修"},
    "payment": {"en": "Payment", "zh": "支付"},
    "billing": {"en": "Billing", "zh": "账单"},
    "outage": {"en": "Service status", "zh": "服务状态"},
}
"""Names of common knowledge-base tags (the first tag is an entry's topic); a KB file can
name its own under a top-level ``topics:`` mapping (``tag: {en: ..., zh: ...}``)."""


def message(language: str, name: str, /, **values: str) -> str:
    """The text ``name`` in ``language`` (English when the language has no such text)."""
    table = MESSAGES.get(language, MESSAGES["en"])
    return table.get(name, MESSAGES["en"][name]).format(**values)


def answer_text(entry: FaqEntry, language: str) -> tuple[str, str]:
    """The entry's answer in ``language``, else in another language it has, and that language."""
    if entry.answers.get(language):
        return entry.answers[language], language
    for other in ("en", "zh", *entry.answers):
        if entry.answers.get(other):
            return entry.answers[other], other
    return "", language


def question_text(entry: FaqEntry, language: str) -> str:
    """The entry's first question in ``language``, else in any language."""
    qs = entry.questions.get(language) or next((q for q in entry.questions.values() if q), ())
    return qs[0] if qs else entry.id.replace("_", " ")


def numbered(labels: list[str]) -> str:
    """ "1. a\\n2. b"."""
    return "\n".join(f"{i}. {label}" for i, label in enumerate(labels, start=1))


def capitalised(label: str) -> str:
    return label[:1].upper() + label[1:] if label and label[:1].isascii() else label


def written_answer(kb: KnowledgeBase, entry: FaqEntry, language: str) -> tuple[str, str]:
    """What to show in writing: the entry's optional ``written_answers`` (a KB field for
    answers that read better than the spoken one), else its answer; and its language."""
    written = kb.extra.get(entry.id, {}).get("written_answers")
    if isinstance(written, dict):
        for lang in (language, *written):
            text = written.get(lang)
            if isinstance(text, str) and text.strip() and (lang == language or not entry.answers.get(language)):
                return " ".join(text.split()), lang
    return answer_text(entry, language)
