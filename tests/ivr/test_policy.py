"""The caller-facing policy: confident answers first, "Did you mean ...?" for a plausible
topic, then the next two candidates, then the keypad menu; never the same reprompt twice;
an honest hand-over for questions the knowledge base does not cover."""

from __future__ import annotations

from callscope.ivr.simulator import CallerInput, CallSimulator
from callscope.ivr.tables import IvrCallRow

from .conftest import MUMBLE, PUBLIC, TOKEN
from .test_calls import events, gathers


def run(client, inputs: list[CallerInput]):
    return CallSimulator(client, PUBLIC, TOKEN).run(inputs)


def menu_prompts(call) -> list[tuple[str, ...]]:
    return [tuple(s.text for s in g if s.tag == "Say") for g in gathers(call) if "step=menu" in g.get("action")]


def test_no_to_did_you_mean_offers_the_next_two_then_the_keypad_then_an_agent(client, db) -> None:
    # a low recogniser confidence turns a confident match into "Did you mean ...?"
    call = run(
        client,
        [
            CallerInput(digits="1"),
            CallerInput(speech="I forgot my password", confidence=0.2),
            CallerInput(speech="no"),
            CallerInput(speech="no"),
            MUMBLE,
        ],
    )
    assert any(t.startswith("Did you mean password reset?") for t in call.heard)
    menus = menu_prompts(call)
    assert len(menus) == 2
    first, second = menus
    assert first[0].startswith("OK. Was it ") and sum("press" in t for t in first) == 3  # two topics + agent
    assert "password reset" not in " ".join(first)  # the rejected topic is not offered again
    assert "Let's try the keypad." in second and sum("press" in t for t in second) >= 4
    assert first != second  # never the same reprompt twice
    assert call.outcome == "dial"
    row = db.get(IvrCallRow, call.call_sid)
    assert row.transferred and row.transfer_reason == "no_match"


def test_next_candidate_chosen_by_key_is_answered(client, db) -> None:
    call = run(
        client,
        [
            CallerInput(digits="1"),
            CallerInput(speech="how much does delivery cost", confidence=0.2),
            CallerInput(speech="no"),
        ],
    )
    first = menu_prompts(call)[0]
    options = [t for t in first if t.startswith("For ")]
    assert len(options) == 2
    # answer the last turn's offer with key 1 and check that topic is answered
    call2 = run(
        client,
        [
            CallerInput(digits="1"),
            CallerInput(speech="how much does delivery cost", confidence=0.2),
            CallerInput(speech="no"),
            CallerInput(digits="1"),
            CallerInput(speech="no thanks"),
        ],
    )
    row = db.get(IvrCallRow, call2.call_sid)
    assert "menu_choice" in events(db, call2.call_sid)
    assert row.intent is not None and row.intent != "delivery" and not row.transferred


def test_out_of_scope_question_is_handed_over_honestly(client, db) -> None:
    call = run(client, [CallerInput(digits="1"), CallerInput(speech="what's the weather going to be like in paris")])
    assert call.outcome == "dial"
    assert any("I can't answer that here" in t for t in call.heard)
    row = db.get(IvrCallRow, call.call_sid)
    assert row.transfer_reason == "out_of_scope" and row.intent is None
    kinds = events(db, call.call_sid)
    assert "out_of_scope" in kinds and "no_match" in kinds and "answered" not in kinds


def test_out_of_scope_with_unsure_recogniser_is_asked_again(client, db) -> None:
    call = run(
        client,
        [CallerInput(digits="1"), CallerInput(speech="what's the weather going to be like in paris", confidence=0.1)],
    )
    assert not any("I can't answer that here" in t for t in call.heard)
    assert len(menu_prompts(call)) == 1


def test_confident_unseen_paraphrase_is_answered_on_the_first_sentence(client, db) -> None:
    call = run(client, [CallerInput(digits="1"), CallerInput(speech="do you take pay pal"), CallerInput(speech="no")])
    assert not any(t.startswith("Did you mean") for t in call.heard)
    assert db.get(IvrCallRow, call.call_sid).intent == "payment_options"
