"""Generate the benchmark call corpus: scenario scripts + a seeded dev/test split.

Writes ``bench/corpus/scenarios.json`` (the scripts, in ``shared/tools/make_calls.py`` format) and
``bench/corpus/split.json`` (call id → dev | test). Deterministic for a given ``--seed``.

Design (issue #18 "Data first"):

* 28 intents of a fictional telecom with a skewed (Zipf-like) frequency: a few intents dominate,
  a long tail has 3 calls each; plus a few calls with no clear issue (``intent: no_issue``);
* English + Mandarin (about one call in three is Mandarin), several hand-written opening
  phrasings per intent (``intents.py``), secondary intents on about a quarter of the calls,
  six caller emotions with emotional wording, agent voices of both genders;
* the dev/test split is stratified by intent and drawn here, before any tuning: tune on ``dev``,
  report on ``test`` only;
* no whispered voice: ``shared/tools/make_calls.py`` picks each role's Kokoro voice from its pools
  with a generator seeded by the call id; where it would pick a voice in ``WHISPERED_VOICES`` (for
  either role) the script pins another voice of the same pool in the call's ``voices`` field. The
  override is applied after make_calls' draws, so pitch, speed, holds and everything else render as
  before; only those calls' voice changes (needs ``../shared/tools`` or ``CALLSCOPE_SHARED_TOOLS``).

    python bench/corpus/make_corpus.py [--n 180] [--seed 18]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import random
import sys
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from intents import INTENTS, NO_ISSUE  # noqa: E402

EMOTIONS = ["neutral", "happy", "frustrated", "angry", "anxious", "sad"]
EMOTION_WEIGHTS = [0.34, 0.13, 0.19, 0.12, 0.13, 0.09]

AGENTS = {"en": {"female": ["Emma", "Sophie", "Priya", "Hannah", "Grace"], "male": ["Daniel", "Tom", "Marcus", "Raj"]},
          "zh": {"female": ["小王", "小李", "小陈", "小周"], "male": ["小张", "小刘", "小赵"]}}
CALLERS = {"en": ["James Carter", "Olivia Brown", "Mohammed Khan", "Sarah Wilson", "David Evans", "Emily Clarke",
                  "Peter Novak", "Aisha Patel", "Liam Murphy", "Grace Taylor"],
           "zh": ["王芳", "李强", "张伟", "刘洋", "陈静", "杨磊", "赵敏", "黄勇"]}

GREET = {
    "en": ["Thank you for calling Brightwave, my name is {agent}. How can I help you today?",
           "Good morning, Brightwave customer service, you're speaking with {agent}.",
           "Hello, you've reached Brightwave, this is {agent}. What can I do for you?",
           "Good afternoon, thanks for calling Brightwave. {agent} speaking, how may I help?"],
    "zh": ["您好，光澜通信客服，我是{agent}，请问有什么可以帮您？",
           "您好，这里是光澜通信，我是客服{agent}，请问您需要什么帮助？",
           "光澜通信您好，工号{agent}为您服务，请问有什么事情？"],
}
# How the caller's emotion colours the opening (prefix) and the end of the call (closing).
PREFIX = {
    "en": {"neutral": ["Hi.", "Hello, good morning.", ""],
           "happy": ["Hi there, hope you're having a lovely day!", "Hello! Thanks for picking up so quickly."],
           "frustrated": ["Honestly, this is the second time I've had to call about this.", "Look, I've already spent ages on your website."],
           "angry": ["This is absolutely unacceptable.", "I'm really angry about this, to be honest."],
           "anxious": ["Hi, sorry, I'm a bit worried about this.", "Hello, I'm quite nervous, I really need this sorted today."],
           "sad": ["Hello. It's been a really rough week, I'm afraid.", "Hi. Sorry, I'm feeling a bit low today."]},
    "zh": {"neutral": ["你好。", "您好。", ""],
           "happy": ["你好呀，今天心情不错！", "您好，谢谢你们接得这么快！"],
           "frustrated": ["说实话，这已经是我第二次打电话来说这个事了。", "我在你们网站上折腾了半天都没弄好。"],
           "angry": ["这也太不像话了！", "我真的非常生气！"],
           "anxious": ["你好，我有点着急。", "您好，我很担心，今天必须解决这个问题。"],
           "sad": ["唉，这周真是太倒霉了。", "你好，我今天心情很不好。"]},
}
CLOSE = {
    "en": {"neutral": ["Okay, that's all I needed. Thanks.", "Right, thank you for your help."],
           "happy": ["Brilliant, thank you so much, you've been wonderful!", "Perfect, that's great news, thanks a lot!"],
           "frustrated": ["Fine. I just hope it actually gets sorted this time.", "Okay. It shouldn't have taken this long, but fine."],
           "angry": ["It's still not good enough, but I'll wait and see.", "I expect this to be fixed, or I'm leaving."],
           "anxious": ["Okay, thank you, I hope it works out. I was really worried.", "Alright. Please make sure it's done, I'm counting on it."],
           "sad": ["Alright. Thanks, I suppose.", "Okay. Thank you for listening, anyway."]},
    "zh": {"neutral": ["好的，就这些，谢谢。", "明白了，谢谢。"],
           "happy": ["太好了，非常感谢，你们服务真好！", "好的，谢谢你，帮大忙了！"],
           "frustrated": ["行吧，希望这次真的能解决。", "好吧，早就该处理好了。"],
           "angry": ["还是很不满意，我等着看结果。", "要是再解决不了，我就换运营商。"],
           "anxious": ["好的，谢谢，希望别再出问题，我真的很担心。", "好，请一定帮我办好，我就指望你们了。"],
           "sad": ["好吧，谢谢。", "嗯，谢谢你听我说这些。"]},
}
AGENT_BYE = {
    "en": ["You're welcome. Thanks for calling Brightwave, have a good day.", "Thank you for your patience. Goodbye."],
    "zh": ["不客气，感谢您的来电，再见。", "感谢您的耐心，祝您生活愉快，再见。"],
}
EMPATHY = {"en": ["I completely understand, and I'm sorry for the trouble.", "I'm sorry about this, let's get it sorted."],
           "zh": ["非常理解您的心情，给您带来麻烦了。", "很抱歉，我马上帮您处理。"]}
# Kokoro voices that whisper or speak very softly: Kokoro's VOICES.md marks af_nicole (🎧) as a
# whispering voice, and Silero VAD heard 1.6 s of a 42 s af_nicole agent leg at threshold 0.25 (issue #18,
# session 5). No other voice of make_calls' Kokoro pools is marked so. Never used for either role.
WHISPERED_VOICES = frozenset({"af_nicole"})
# make_calls.py's default master seed (render.sh does not pass --seed).
RENDER_SEED = 20240611
SEC_LEAD = {"en": ["", "One more thing. ", "Actually, while I'm on the phone, "], "zh": ["", "对了，", "还有一件事，"]}


def zipf_counts(n_intents: int, total: int, s: float = 0.9, floor: int = 3) -> list[int]:
    weights = [1 / (r + 1) ** s for r in range(n_intents)]
    scale = total / sum(weights)
    return [max(floor, round(w * scale)) for w in weights]


def fill(text: str, rng: random.Random, lang: str) -> str:
    order = "".join(rng.choice("123456789") for _ in range(1)) + "".join(rng.choice("0123456789") for _ in range(5))
    if lang == "en":
        order = " ".join(order)
    return text.format(order=order, n=rng.randint(3, 20), name=rng.choice(CALLERS[lang]))


def make_call(cid: str, intent: str, lang: str, emotion: str, secondary: str | None, rng: random.Random) -> dict:
    agent_gender = "male" if rng.random() < 0.3 else "female"
    caller_gender = rng.choice(["female", "male"])
    agent = rng.choice(AGENTS[lang][agent_gender])
    turns: list[dict] = [{"speaker": "agent", "text": rng.choice(GREET[lang]).format(agent=agent)}]

    def say(speaker: str, text: str, **kw: object) -> None:
        turns.append({"speaker": speaker, "text": fill(text, rng, lang), **kw})

    negative = emotion in ("frustrated", "angry")
    if intent == "no_issue":
        for speaker, text in rng.choice(NO_ISSUE[lang]):
            say(speaker, text)
        say("agent", rng.choice(AGENT_BYE[lang]))
        return {"id": cid, "language": lang, "intent": intent, "secondary_intents": [], "emotion": emotion,
                "caller_gender": caller_gender, "agent_gender": agent_gender,
                "summary": "Caller has no issue to raise (wrong number, call-back or gives up)." if lang == "en"
                else "客户没有具体问题（打错电话、回拨或放弃）。",
                "faq": None, "turns": turns}
    d = INTENTS[intent][lang]
    prefix = rng.choice(PREFIX[lang][emotion])
    opening = rng.choice(d["open"])
    say("caller", f"{prefix} {opening}".strip() if lang == "en" else prefix + opening)
    if negative or emotion in ("anxious", "sad"):
        say("agent", rng.choice(EMPATHY[lang]) + (" " if lang == "en" else "") + rng.choice(d["probe"]))
    else:
        say("agent", rng.choice(d["probe"]))
    say("caller", rng.choice(d["detail"]))
    if rng.random() < 0.2:
        turns.append({"hold": True, "note": "agent checks the account"})
    say("agent", rng.choice(d["answer"]), **({"barge_in": True} if emotion == "angry" and rng.random() < 0.3 else {}))
    if rng.random() < 0.75:
        q, a = rng.choice(d["follow"])
        say("caller", q, **({"barge_in": True} if negative and rng.random() < 0.3 else {}))
        say("agent", a)
    if secondary:
        q, a = INTENTS[secondary][lang]["sec"]
        say("caller", rng.choice(SEC_LEAD[lang]) + q)
        say("agent", a)
    say("caller", rng.choice(CLOSE[lang][emotion]))
    say("agent", rng.choice(AGENT_BYE[lang]))
    faq_q, faq_a = d["faq"]
    return {"id": cid, "language": lang, "intent": intent, "secondary_intents": [secondary] if secondary else [],
            "emotion": emotion, "caller_gender": caller_gender, "agent_gender": agent_gender,
            "summary": d["summary"], "faq": {"question": faq_q, "answer": faq_a}, "turns": turns}


def load_make_calls(tools: Path | None = None) -> ModuleType:
    """Import ``make_calls.py`` from the shared tools (``CALLSCOPE_SHARED_TOOLS`` or ``../shared/tools``)."""
    tools = tools or Path(os.environ.get("CALLSCOPE_SHARED_TOOLS", HERE.parents[2] / "shared" / "tools"))
    path = tools / "make_calls.py"
    if not path.is_file():
        raise SystemExit(f"make_calls.py not found at {path}: set CALLSCOPE_SHARED_TOOLS")
    spec = importlib.util.spec_from_file_location("make_calls", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_calls"] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def avoid_whispered_voices(calls: list[dict], make_calls: ModuleType, render_seed: int = RENDER_SEED,
                           whispered: frozenset[str] = WHISPERED_VOICES) -> list[str]:
    """Pin a non-whispered Kokoro voice where make_calls would pick a whispered one; returns the changed ids.

    make_calls draws the voices of a call first from ``default_rng(stable_int(seed, id))`` and applies a
    call's ``voices`` overrides after its draws, so pinning one role's voice leaves every other random
    choice of the rendering (the other voice, pitch, speed, holds, gains) as it was.
    """
    changed = []
    for call in calls:
        rng = make_calls.np.random.default_rng(make_calls.stable_int(render_seed, call["id"]))
        picked = make_calls.pick_voices(call, rng, "kokoro")
        pins = {}
        for role, spec in picked.items():
            if spec["voice"] not in whispered:
                continue
            others = {s["voice"] for r, s in picked.items() if r != role}
            pool = [v for v in make_calls.KOKORO_POOLS[call["language"]][f"{role}_{spec['gender']}"]
                    if v not in whispered and v not in others]
            digest = hashlib.sha256(f"{call['id']}:{role}".encode()).digest()
            pins[role] = {"voice": pool[int.from_bytes(digest[:4], "big") % len(pool)]}
        if pins:
            call["voices"] = pins
            changed.append(call["id"])
    return changed


def build(n_total: int, seed: int) -> tuple[dict, dict[str, str]]:
    rng = random.Random(seed)
    names = list(INTENTS)  # order = frequency rank
    n_no_issue = max(4, n_total // 30)
    counts = zipf_counts(len(names), n_total - n_no_issue)
    plan = [intent for intent, c in zip(names, counts, strict=True) for _ in range(c)] + ["no_issue"] * n_no_issue
    rng.shuffle(plan)
    calls, by_lang = [], {"en": 0, "zh": 0}
    for intent in plan:
        lang = "zh" if rng.random() < 1 / 3 else "en"
        by_lang[lang] += 1
        cid = f"c_{lang}_{by_lang[lang]:03d}"
        emotion = rng.choices(EMOTIONS, EMOTION_WEIGHTS)[0]
        secondary = None
        if intent != "no_issue" and rng.random() < 0.25:
            secondary = rng.choice([x for x in names if x != intent])
        calls.append(make_call(cid, intent, lang, emotion, secondary, rng))
    # split stratified by intent, drawn before any tuning
    split: dict[str, str] = {}
    for intent in sorted(set(plan)):
        ids = sorted(c["id"] for c in calls if c["intent"] == intent)
        rng.shuffle(ids)
        first = rng.choice(["dev", "test"])
        other = "test" if first == "dev" else "dev"
        for i, cid in enumerate(ids):
            split[cid] = first if i % 2 == 0 else other
    scen = {"name": "callscope-bench-corpus-v1",
            "description": "Benchmark call corpus for issue mining / emotion (issue #18): 28 intents with a skewed "
                           "frequency + no-issue calls, en + zh. Generated by bench/corpus/make_corpus.py "
                           f"(seed {seed}); render with shared/tools/make_calls.py --tts kokoro.",
            "calls": sorted(calls, key=lambda c: c["id"])}
    return scen, dict(sorted(split.items()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=180)
    ap.add_argument("--seed", type=int, default=18)
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args()
    scen, split = build(args.n, args.seed)
    changed = avoid_whispered_voices(scen["calls"], load_make_calls())
    (args.out / "scenarios.json").write_text(json.dumps(scen, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (args.out / "split.json").write_text(json.dumps({"seed": args.seed, "split": split}, indent=1) + "\n")
    from collections import Counter
    calls = scen["calls"]
    print(f"{len(calls)} calls; languages {dict(Counter(c['language'] for c in calls))}")
    print("intents:", Counter(c["intent"] for c in calls).most_common())
    print("emotions:", dict(Counter(c["emotion"] for c in calls)))
    print("split:", dict(Counter(split.values())))
    print("secondary:", sum(bool(c["secondary_intents"]) for c in calls))
    print(f"whispered voice replaced in {len(changed)} calls:", " ".join(changed))


if __name__ == "__main__":
    main()
