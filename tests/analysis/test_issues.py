"""Common-issue mining on real call transcripts and real customer-support texts (en + zh)."""

from __future__ import annotations

import csv
import json
import math
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from callscope.analysis.embeddings import l2_normalise, load_encoder
from callscope.analysis.issues import (
    IssueItem,
    IssueModel,
    IssueOptions,
    _centre,
    _joint,
    _small_set_means,
    assign_items,
    call_record_from_dict,
    embed_items,
    extract_keywords,
    load_text_items,
    mine_issues,
    since_filter,
    tokenize,
)
from callscope.errors import ConfigError


@pytest.fixture(scope="module")
def intents(data_dir: Path) -> dict[str, str]:
    return json.loads((data_dir / "analysis" / "calls_intents.json").read_text())


@pytest.fixture(scope="module")
def call_result(mined):  # type: ignore[no-untyped-def]
    return mined


@pytest.fixture(scope="module")
def mixed_texts(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, str]]]:
    """bitext questions (6 intents) plus Mandarin questions about some of the same intents."""
    rows = []
    for name in ("bitext_slice.csv", "texts_zh.csv"):
        with (data_dir / "analysis" / name).open(newline="", encoding="utf-8") as fh:
            rows += list(csv.DictReader(fh))
    path = tmp_path_factory.mktemp("texts") / "mixed.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, ["text", "intent"])
        writer.writeheader()
        writer.writerows(rows)
    return path, rows


@pytest.fixture(scope="module")
def text_result(mixed_texts):  # type: ignore[no-untyped-def]
    return mine_issues(load_text_items(mixed_texts[0]))


def test_every_call_is_in_exactly_one_issue_or_unclustered(records, call_result) -> None:  # type: ignore[no-untyped-def]
    seen = [m for issue in call_result.issues for m in issue.issue.members] + list(call_result.unclustered)
    assert sorted(seen) == sorted(r.id for r in records)
    assert call_result.n_items == 16
    frequencies = [i.frequency for i in call_result.issues]
    assert frequencies == sorted(frequencies, reverse=True)


def test_english_and_mandarin_calls_about_the_same_thing_share_an_issue(call_result, intents) -> None:  # type: ignore[no-untyped-def]
    hours = call_result.issue_of("s_en_01")
    assert hours is not None and {"s_en_07", "s_zh_01"} <= set(hours.issue.members)
    outage = call_result.issue_of("s_en_09")
    assert outage is not None and "s_zh_03" in outage.issue.members
    # Every issue with several calls is mostly one intent.
    for issue in call_result.issues:
        labels = [intents[m] for m in issue.issue.members]
        assert max(labels.count(x) for x in labels) / len(labels) >= 0.5, labels
    assert hours.languages == {"en": 2, "zh": 1}
    assert set(hours.labels) == {"en", "zh"} and "开门" in hours.labels["zh"]


def test_issue_statistics_from_call_metadata(records, call_result) -> None:  # type: ignore[no-untyped-def]
    by_id = {r.id: r for r in records}
    hours = call_result.issue_of("s_en_01")
    members = [by_id[m] for m in hours.issue.members]
    expected_aht = sum(r.handle_time_s for r in members) / len(members)
    assert hours.avg_handle_time_s == pytest.approx(expected_aht)
    assert hours.avg_sentiment == pytest.approx(sum(r.sentiment for r in members) / len(members))
    # Recording dates span about a month: the trend is counted per day.
    assert sum(c for _, c in hours.trend) == hours.frequency
    assert all(len(period) == 10 for period, _ in hours.trend)
    assert hours.issue.share == pytest.approx(hours.frequency / 16)
    assert hours.channels == {"call": hours.frequency}
    assert "open" in hours.issue.keywords or "开门" in hours.issue.keywords
    assert hours.example_ids[0] in hours.issue.members
    assert len(hours.issue.examples) == min(3, hours.frequency)


def test_texts_cluster_by_intent_across_languages(mixed_texts, text_result) -> None:  # type: ignore[no-untyped-def]
    _, rows = mixed_texts
    predicted = [text_result.assignments[str(i)] or f"u{i}" for i in range(len(rows))]
    truth = [r["intent"] for r in rows]
    assert adjusted_rand_score(truth, predicted) >= 0.5
    zh = {r["text"]: str(i) for i, r in enumerate(rows) if r["text"][0] >= "\u4e00"}
    for text, intent in (
        ("我忘记密码了，怎么重置密码？", "recover_password"),
        ("付款的时候一直失败，支付出了问题怎么办？", "payment_issue"),
    ):
        issue = text_result.issue_of(zh[text])
        assert issue is not None
        english = [rows[int(m)]["intent"] for m in issue.issue.members if rows[int(m)]["text"][0] < "\u4e00"]
        assert english and english.count(intent) / len(english) >= 0.8


def test_sampled_clustering_assigns_the_rest_to_known_issues(mixed_texts) -> None:  # type: ignore[no-untyped-def]
    path, rows = mixed_texts
    items = load_text_items(path)
    result = mine_issues(items, IssueOptions(max_cluster_items=30, small_set_items=10, encoders=("use-multilingual",)))
    assigned = [m for i in result.issues for m in i.issue.members]
    assert sorted(assigned + list(result.unclustered), key=int) == [i.id for i in items]
    assert len(assigned) >= 0.7 * len(items)
    predicted = [result.assignments[str(i)] or f"u{i}" for i in range(len(rows))]
    assert adjusted_rand_score([r["intent"] for r in rows], predicted) >= 0.4


def test_incremental_assignment_and_novelty(text_result, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "issues.npz"
    text_result.model.save(path)
    model = IssueModel.load(path)
    assert model.issue_ids == text_result.model.issue_ids
    new = [
        IssueItem(id="a", text="I forgot my password and can't get into my account"),
        IssueItem(id="b", text="我的密码忘了，登录不了"),
        IssueItem(id="c", text="The giraffes at the zoo were very tall this spring."),
    ]
    got = assign_items(model, new)
    password = next(i for i in text_result.issues if "password" in i.issue.keywords)
    assert got["a"] == password.id
    assert got["b"] == password.id
    assert got["c"] is None


def test_keywords_rank_by_distinctiveness_and_never_by_spelling() -> None:
    groups = [
        ["internet down again since monday", "internet slow and router flashing"],
        ["internet bill wrong this month", "bill far too high"],
    ]
    outage, billing = extract_keywords(groups, top=3)
    assert billing[0] == "bill"  # said by both members, by no other issue
    assert outage[0] == "internet" and "internet" not in billing[:1]
    # all words said once: the most representative text (given first) leads, not the alphabet
    (ranked,) = extract_keywords([["zebra crossing lights broken", "apple store opening hours"]], top=8)
    assert ranked[:4] == ["zebra", "crossing", "lights", "broken"]
    assert ranked != sorted(ranked, reverse=True) and ranked != sorted(ranked)


def test_keywords_use_jieba_and_stopwords() -> None:
    assert "宽带" in tokenize("我的宽带上不了网了", "zh")
    assert "的" not in tokenize("我的宽带上不了网了", "zh")
    assert tokenize("Where is my order, please?", "en") == ["order"]
    groups = [["my password is wrong", "reset my password"], ["where is my order", "order not arrived"]]
    assert extract_keywords(groups, top=1) == [["password"], ["order"]]


def test_text_files_and_their_errors(tmp_path: Path) -> None:
    jsonl = tmp_path / "survey.jsonl"
    jsonl.write_text(
        '{"comment": "Shop hours?", "date": "2025-03-02", "channel": "survey"}\n\n{"comment": ""}\n', encoding="utf-8"
    )
    items = load_text_items(jsonl, text_column="comment")
    assert [i.id for i in items] == ["0", "1"] and items[0].channel == "survey"
    assert items[0].timestamp == datetime(2025, 3, 2)
    assert since_filter(items, datetime(2025, 3, 3), keep_unknown=False) == []
    with pytest.raises(ConfigError, match="no column 'text'"):
        bad = tmp_path / "bad.csv"
        bad.write_text("message\nhello\n", encoding="utf-8")
        load_text_items(bad)
    with pytest.raises(ConfigError, match="line 1 is not JSON"):
        broken = tmp_path / "broken.jsonl"
        broken.write_text("{oops\n", encoding="utf-8")
        load_text_items(broken)
    with pytest.raises(ConfigError, match="unsupported"):
        load_text_items(tmp_path / "x.xlsx")
    with pytest.raises(ConfigError, match="duplicate item id"):
        mine_issues([IssueItem("1", "a"), IssueItem("1", "b")])


def test_empty_and_tiny_inputs() -> None:
    result = mine_issues([])
    assert result.issues == () and result.unclustered == ()
    result = mine_issues([IssueItem("x", ""), IssueItem("y", "   ")])
    assert result.unclustered == ("x", "y")


def test_call_record_from_the_analyze_json_shape() -> None:
    from callscope.analysis.issues import call_record_from_dict

    data = {
        "recording": "call_7.stereo",
        "language": "zh",
        "reason": "",
        "caller_emotion": "frustrated",
        "caller_emotion_detail": {"label": "frustrated", "confidence": 0.7, "sentiment": -0.6},
        "turns": [
            {"speaker": "SPEAKER_01", "role": "agent", "start": 0.0, "end": 2.0, "text": "您好，请问有什么可以帮您？"},
            {"speaker": "SPEAKER_00", "role": "caller", "start": 2.1, "end": 5.0, "text": "喂，你好。我的宽带断网了。"},
        ],
        "metrics": None,
    }
    record = call_record_from_dict(data, "call_7.stereo")
    assert record.reason == "我的宽带断网了。"
    assert record.sentiment == -0.6 and record.handle_time_s is None and record.recorded_at is None
    assert record.turns[1][0].value == "caller"
    with pytest.raises(ConfigError, match="no 'turns' list"):
        call_record_from_dict({"language": "en"}, "x")


def test_agent_answers_separate_calls_the_callers_describe_alike(records, call_result, intents) -> None:  # type: ignore[no-untyped-def]
    # Callers of both say "my order hasn't arrived"; the agents' answers differ ("dispatched,
    # due tomorrow" vs "the courier had a problem at the depot"). With the answers mixed in,
    # the order-status call is closer to the other order-status call than to the delay call;
    # from the callers' words alone it is the other way round. (At the dev-fitted small-set
    # cut of issue #18 these two neighbouring intents share an issue on this set; see
    # BENCHMARKS.md.)
    import numpy as np

    from callscope.analysis.issues import _centre, _joint, _small_set_means, embed_items

    items = [r.to_item() for r in records]
    index = {item.id: n for n, item in enumerate(items)}
    langs = [item.language for item in items]

    def similarity(options: IssueOptions) -> tuple[float, float]:
        raw = embed_items(items, options)
        joint = _joint(_centre(raw, langs, _small_set_means(raw, langs, options.small_set_prior)))
        a, same, delay = (joint[index[i]] for i in ("s_en_02", "s_en_10", "s_en_05"))
        return float(np.dot(a, same)), float(np.dot(a, delay))

    same, delay = similarity(IssueOptions())
    assert same > delay
    same, delay = similarity(IssueOptions(context_weight=0.0))
    assert same < delay
    billing = call_result.issue_of("s_en_04")
    assert billing is not None and "s_en_11" in billing.issue.members
    assert all(intents[m] == "billing_dispute" for m in billing.issue.members)
    # The context is used for the vectors only: labels and quotes are callers' reasons.
    by_id = {r.id: r for r in records}
    label = billing.label.removesuffix("…")
    assert any(" ".join(by_id[m].reason.split()).startswith(label) for m in billing.issue.members)
    item = records[0].to_item()
    assert item.text == records[0].reason and item.context
    assert not any(c in item.text for c in item.context)


CORPUS = Path(__file__).resolve().parents[2] / "bench" / "corpus"


def test_on_whisper_transcripts_the_agents_answers_outweigh_the_callers_reason() -> None:
    """Issue #18, session 13: the caller's reason is one short sentence that speech recognition
    garbles; the agent's answers are several, in the company's words. On the Whisper transcripts
    of the corpus's dev calls (Kokoro voices, 8 kHz), weighting the answers 0.7 (the default)
    separates the intents better than half and half did, and the reason alone worst."""
    scenarios = json.loads((CORPUS / "scenarios.json").read_text(encoding="utf-8"))["calls"]
    split = json.loads((CORPUS / "split.json").read_text())["split"]
    calls = [c for c in scenarios if split[c["id"]] == "dev" and c["intent"] != "no_issue"]
    items = []
    for c in calls:
        meta = json.loads((CORPUS / "asr" / "dev" / f"{c['id']}.stereo.analysis.json").read_text(encoding="utf-8"))
        items.append(call_record_from_dict({k: v for k, v in meta.items() if k != "reason"}, c["id"]).to_item())
    intents = np.array([c["intent"] for c in calls])
    langs = [item.language for item in items]
    same = intents[:, None] == intents[None, :]
    upper = np.triu_indices(len(items), 1)
    seen: dict[tuple[str, str], np.ndarray] = {}

    def memo(name: str):  # type: ignore[no-untyped-def]
        def encode(texts: list[str]) -> np.ndarray:
            missing = [t for t in dict.fromkeys(texts) if (name, t) not in seen]
            if missing:
                seen.update({(name, t): v for t, v in zip(missing, load_encoder(name).encode(missing), strict=True)})
            return np.stack([seen[(name, t)] for t in texts])

        return encode

    encoders = {name: memo(name) for name in IssueOptions().encoders}

    def separation(weight: float) -> tuple[float, float]:
        """(same-intent minus other-intent pair cosine in sd of the latter, share of calls whose
        nearest call has their intent) on the centred joint view, as small sets are mined."""
        options = IssueOptions(context_weight=weight)
        raw = embed_items(items, options, encoders=encoders)
        joint = _joint(_centre(raw, langs, _small_set_means(raw, langs, options.small_set_prior)))
        sims = joint @ joint.T
        pairs, kin = sims[upper], same[upper]
        np.fill_diagonal(sims, -np.inf)
        nearest = float(np.mean(intents[sims.argmax(axis=1)] == intents))
        return float((pairs[kin].mean() - pairs[~kin].mean()) / pairs[~kin].std()), nearest

    assert IssueOptions().context_weight == 0.7
    default, half, reason = separation(0.7), separation(0.5), separation(0.0)
    assert default[0] > half[0] > reason[0]
    assert default[1] >= half[1] > reason[1]


def test_small_set_cut_grows_with_the_set_size() -> None:
    from callscope.analysis.issues import small_set_z

    sizes = [3, 8, 16, 50, 100, 199, 10_000]
    for share in (0.0, 1.0):
        z = [small_set_z(n, IssueOptions(), share) for n in sizes]
        assert z == sorted(z) and z[0] == 0.0 and z[-1] == 2.0
    # the dev-fitted rule (issue #18, with the anchored background): 0.3 * log2(n) - 1.4 for texts, - 0.6 for calls
    assert small_set_z(32) == pytest.approx(0.1)
    assert small_set_z(32, IssueOptions(), 1.0) == pytest.approx(0.9)
    assert small_set_z(32, IssueOptions(), 0.5) == pytest.approx(0.5)
    assert small_set_z(16, IssueOptions(small_set_z=1.5)) == 1.5


@pytest.fixture(scope="module")
def transferred(data_dir: Path) -> list:  # type: ignore[type-arg]
    """The 8 calls the demo's IVR transfers, as Whisper heard them: 6 about an outage (3 en, 3 zh)."""
    from callscope.analysis.issues import load_call_record

    return [load_call_record(p) for p in sorted((data_dir / "analysis" / "transferred").glob("*.analysis.json"))]


def test_a_dominant_issue_of_a_small_set_is_one_issue_across_languages(transferred) -> None:  # type: ignore[no-untyped-def]
    """Small sets are centred on reference means: a set's own mean would be its dominant issue."""
    outage = {f"{c}.stereo" for c in ("o_en_01", "o_en_02", "o_zh_01", "o_zh_02", "s_en_09", "s_zh_03")}
    items = [r.to_item() for r in transferred]
    assert {i.id for i in items} >= outage and len(items) == 8
    result = mine_issues(items)
    issue = result.issue_of("o_zh_01.stereo")
    assert issue is not None and set(issue.issue.members) <= outage and len(issue.issue.members) >= 5
    assert issue.languages.keys() == {"en", "zh"}
    # No outage call is in another issue (at most one stays unclustered).
    assert all(result.assignments[i] in (issue.id, None) for i in outage)
    # Centred on the set's own means (before issue #18), the Mandarin calls - all three about
    # the outage - lose what they share, and the outage is mined as several issues.
    before = mine_issues(items, IssueOptions(small_set_prior=None, small_set_z=0.7))
    assert len({before.assignments[i] for i in outage}) > 1


OUTAGE_QUESTIONS = [
    "Is there an internet outage in my area right now?",
    "my broadband has been down since this morning, is there a network outage?",
    "我家的宽带断网了，是不是网络故障？",
    "internet outage in my area",
    "is the broadband network down",
]


def test_a_small_set_that_is_all_one_issue_stays_one_issue() -> None:
    """The background of a small set is pulled towards reference pairs (dev texts of many
    issues): five outage questions are one issue, not split around their own mean; mixed
    with other questions, the outage is still one issue and the others are not in it."""
    from callscope.analysis.issues import _pair_reference

    assert _pair_reference(IssueOptions().encoders, 0.0) is not None
    items = [IssueItem(f"o{i}", t) for i, t in enumerate(OUTAGE_QUESTIONS)]
    result = mine_issues(items)
    assert [sorted(i.issue.members) for i in result.issues] == [[f"o{i}" for i in range(5)]]
    # against the set's own pairs alone (no anchor), the same five come out in pieces
    alone = mine_issues(items, IssueOptions(small_set_prior=None))
    assert len(alone.issues) != 1 or alone.unclustered
    others = ["What time do you open on Sunday?", "what are your opening hours on Saturday",
              "I want a refund for my broken kettle", "how do I get my money back for a faulty toaster"]
    mixed = mine_issues(items + [IssueItem(f"x{i}", t) for i, t in enumerate(others)])
    outage = mixed.issue_of("o0")
    assert outage is not None and set(outage.issue.members) == {f"o{i}" for i in range(5)}
    assert len(mixed.issues) >= 2


def test_small_set_background_is_pulled_towards_the_reference_pairs() -> None:
    import numpy as np

    from callscope.analysis.issues import _background, _pair_stats

    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 16)).astype(np.float32) + 3.0  # five near-identical items
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    own = _pair_stats(x)
    assert _background(x, None, 20.0) == own and _background(x, (0.0, 0.1), None) == own
    mean, sd = _background(x, (0.0, 0.1), 20.0)
    assert mean == pytest.approx(0.2 * own[0])  # 5 items against a prior of 20
    assert sd > 0.1 and own[0] > mean + 1.0 * sd  # the set's own pairs stand out of that background


def test_reference_means_cover_the_bundled_encoders_in_both_languages() -> None:
    import numpy as np

    from callscope.analysis.embeddings import load_encoder
    from callscope.analysis.issues import _reference_means, _small_set_means

    reference = _reference_means()
    for name in IssueOptions().encoders:
        dim = load_encoder(name).encode(["hello"]).shape[1]
        for lang in ("en", "zh"):
            assert reference[name][lang].shape == (dim,) and np.isfinite(reference[name][lang]).all()
    # A set's own mean takes over as it grows; a language with no reference keeps its own mean.
    rng = np.random.default_rng(0)
    raw = {"use-multilingual": rng.normal(size=(40, reference["use-multilingual"]["en"].shape[0])).astype(np.float32)}
    langs = ["en"] * 20 + ["fr"] * 20
    means = _small_set_means(raw, langs, 20.0)["use-multilingual"]
    own_en = raw["use-multilingual"][:20].mean(axis=0)
    assert np.allclose(means["en"], 0.5 * own_en + 0.5 * reference["use-multilingual"]["en"], atol=1e-5)
    assert np.allclose(means["fr"], raw["use-multilingual"][20:].mean(axis=0), atol=1e-5)
    assert np.allclose(_small_set_means(raw, langs, None)["use-multilingual"]["en"], own_en, atol=1e-5)


def _two_views(seed: int, groups: int, per_group: int, singletons: int, dim: int = 48):  # type: ignore[no-untyped-def]
    """Two noisy 'encoder' views of the same items: ``groups`` topics plus one-off items."""
    import numpy as np

    rng = np.random.default_rng(seed)
    truth = [g for g in range(groups) for _ in range(per_group)] + list(range(groups, groups + singletons))
    views = {}
    for name in ("a", "b"):
        centres = rng.normal(size=(groups + singletons, dim))
        x = centres[truth] + rng.normal(scale=0.55, size=(len(truth), dim))
        views[name] = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    return views, truth


def test_small_set_cut_can_be_chosen_by_encoder_agreement() -> None:
    from callscope.analysis.issues import choose_small_set_z, cluster_embeddings

    for seed, (groups, per_group, singletons) in enumerate([(4, 5, 3), (12, 6, 8), (6, 20, 2)]):
        views, truth = _two_views(seed, groups, per_group, singletons)
        z, agreement = choose_small_set_z(views)
        assert set(agreement) == set(IssueOptions().small_set_zs) and z in agreement
        assert agreement[z] >= max(agreement.values()) * (1 - IssueOptions().agreement_tolerance)
        labels, _ = cluster_embeddings(views, IssueOptions(small_set_rule="agreement"))
        assert adjusted_rand_score(truth[: groups * per_group], labels[: groups * per_group]) > 0.9
        assert (labels[groups * per_group :] == -1).all()  # one-off questions stay unclustered
    with pytest.raises(ConfigError, match="unknown small_set_rule"):
        cluster_embeddings(views, IssueOptions(small_set_rule="elbow"))
    fixed, table = choose_small_set_z(views, IssueOptions(small_set_z=1.2))
    assert fixed == 1.2 and table == {}
    one, table = choose_small_set_z({"a": views["a"]})
    assert table == {} and one == pytest.approx(0.3 * math.log2(len(truth)) - 1.4)  # the text offset


@pytest.mark.slow
def test_graph_path_sums_the_encoders_knn_graphs(mixed_texts) -> None:  # type: ignore[no-untyped-def]
    """The Louvain path (forced on 55 texts) clusters the sum of each encoder's own kNN graph."""
    import numpy as np

    from callscope.analysis.issues import _adjacency, _centre, _issue_graph, _language_means, _languages, embed_items

    path, rows = mixed_texts
    items = load_text_items(path)
    raw = embed_items(items)
    languages = _languages(items)
    views = _centre(raw, languages, _language_means(raw, languages))
    graph = _issue_graph(views, 7, IssueOptions())
    per_encoder = [_adjacency(views[name], 7, "sum") for name in sorted(views)]
    total = (per_encoder[0] + per_encoder[1]).toarray()
    for i, j, w in graph.edges(data="weight"):
        assert w == pytest.approx(total[i, j], rel=1e-5)
    # Edges both encoders propose exist (they weigh double); no edge is missing or extra.
    both = (per_encoder[0].toarray() > 0) & (per_encoder[1].toarray() > 0)
    assert both.any() and graph.number_of_edges() == int(np.count_nonzero(np.triu(total, 1)))

    result = mine_issues(items, IssueOptions(small_set_items=10))
    assert result.resolution > 0  # the graph path ran, not the small-set cut
    predicted = [result.assignments[str(i)] or f"u{i}" for i in range(len(rows))]
    assert adjusted_rand_score([r["intent"] for r in rows], predicted) >= 0.8
    with pytest.raises(ConfigError, match="unknown graph"):
        mine_issues(items, IssueOptions(small_set_items=10, graph="dense"))


def test_keywords_of_a_mixed_group_fill_up_in_its_main_language() -> None:
    groups = [[
        "my parcel never arrived",
        "the courier lost the delivery",
        "快递一直没有送到家里",
    ]]
    keywords = extract_keywords(groups, top=4, languages=[["en", "en", "zh"]])[0]
    assert len(keywords) == 4
    assert all(k.isascii() for k in keywords)  # English is the main language: its words come first
    both = extract_keywords([["包裹丢了", "快递没有送到", "parcel lost"]], top=6, languages=[["zh", "zh", "en"]])[0]
    assert not both[0].isascii()


def test_word_graph_links_texts_that_share_content_words() -> None:
    import numpy as np

    from callscope.analysis.issues import _adjacency, _issue_graph, _word_vectors

    texts = ["My new card has not arrived yet", "The card still hasn't arrived", "My PIN is blocked",
             "I forgot my PIN", "家里宽带断网了", "宽带一直连不上"]
    langs = ["en", "en", "en", "en", "zh", "zh"]
    words = _word_vectors(texts, langs)
    sims = (words @ words.T).toarray()
    assert sims[0, 1] > 0.2 and sims[2, 3] > 0.2 and sims[4, 5] > 0.2  # card, PIN, 宽带
    assert sims[0, 2] == 0 and sims[1, 4] == 0
    assert _word_vectors(["", "the and of"], ["en", "en"]) is None  # no content words: no word graph
    rng = np.random.default_rng(1)
    views = {name: rng.normal(size=(6, 8)).astype(np.float32) for name in ("a", "b")}
    views = {k: v / np.linalg.norm(v, axis=1, keepdims=True) for k, v in views.items()}
    encoders_only = sum(_adjacency(views[k], 2, "sum") for k in sorted(views)).toarray()
    for weight in (0.0, 1.0):
        graph = _issue_graph(views, 2, IssueOptions(lexical_weight=weight), words)
        expected = encoders_only + weight * _adjacency(words, 2, "sum").toarray()
        assert graph.number_of_edges() == int(np.count_nonzero(np.triu(expected, 1)))
        for i, j, w in graph.edges(data="weight"):
            assert w == pytest.approx(expected[i, j], rel=1e-5)


def test_silhouette_matches_sklearn_and_scores_singletons_zero() -> None:
    import numpy as np
    from sklearn.metrics import silhouette_score

    from callscope.analysis.issues import _silhouette

    rng = np.random.default_rng(3)
    x = l2_normalise(rng.normal(size=(120, 12)))
    labels = rng.integers(0, 15, 120)
    labels[:3] = [15, 16, 17]  # three singletons
    assert _silhouette(x @ x.T, labels) == pytest.approx(silhouette_score(x, labels, metric="cosine"), abs=1e-5)
    assert _silhouette(x @ x.T, np.zeros(120, dtype=np.int64)) == 0.0  # one group: undefined, 0


@pytest.fixture(scope="module")
def clinc_slice(data_dir: Path) -> tuple[list[IssueItem], list[str]]:
    """297 CLINC150 train questions, 30 intents of 6-14 questions (tests/data/SOURCES.md)."""
    with (data_dir / "analysis" / "clinc150_train_slice.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [IssueItem(f"q{i}", r["text"], "en") for i, r in enumerate(rows)], [r["intent"] for r in rows]


@pytest.mark.slow
def test_resolution_rule_picks_a_granularity_near_the_best_on_real_questions(clinc_slice) -> None:  # type: ignore[no-untyped-def]
    """The graph path's label-free resolution choice lands within 0.05 ARI of the best resolution
    of its grid on 297 real questions (30 intents), with about as many issues as intents."""
    from sklearn.metrics import normalized_mutual_info_score

    from callscope.analysis.issues import (
        _centre,
        _issue_graph,
        _joint,
        _language_means,
        _languages,
        _louvain,
        _neighbours_for,
        _word_vectors,
        choose_resolution_by_silhouette,
        embed_items,
    )

    items, truth = clinc_slice
    raw = embed_items(items)
    languages = _languages(items)
    views = _centre(raw, languages, _language_means(raw, languages))
    options = IssueOptions()
    words = _word_vectors([i.text for i in items], languages)
    graph = _issue_graph(views, _neighbours_for(len(items), options), options, words)
    chosen, labels, scores = choose_resolution_by_silhouette(graph, _joint(views), options)
    by_resolution = {r: adjusted_rand_score(truth, _louvain(graph, r, options.seed)) for r in scores}
    assert adjusted_rand_score(truth, labels) >= max(by_resolution.values()) - 0.05
    # the partition returned is the one that resolution gives
    assert by_resolution[chosen] == pytest.approx(adjusted_rand_score(truth, labels))

    result = mine_issues(items, IssueOptions(large_set_encoders=()), embeddings=raw)  # the graph the rule was chosen on
    predicted = [result.assignments[i.id] or f"u:{i.id}" for i in items]
    assert 24 <= len(result.issues) <= 45  # 30 intents
    assert len(result.unclustered) <= 0.05 * len(items)
    assert adjusted_rand_score(truth, predicted) >= 0.8
    assert normalized_mutual_info_score(truth, predicted) >= 0.92
    with pytest.raises(ConfigError, match="unknown resolution_rule"):
        mine_issues(items, IssueOptions(resolution_rule="modularity"), embeddings=raw)


def test_refinement_moves_only_items_clearly_nearer_another_issue() -> None:
    """One pass against the partition's centroids: a member that sits in another issue moves there;
    one only a little nearer another issue (under the margin) stays; nobody joins a singleton."""
    from callscope.analysis.issues import refine_to_centroids

    a, b, c = np.eye(4)[0], np.eye(4)[1], np.eye(4)[2]
    rows = [a, a, a + 0.1 * b, b, b, b, c]
    misplaced = l2_normalise(np.array([b + 0.05 * a]))[0]  # a "b" question that Louvain put with the a's
    borderline = l2_normalise(np.array([a + 0.9 * b]))[0]  # about as near to both
    x = l2_normalise(np.array([*rows, misplaced, borderline]))
    labels = np.array([0, 0, 0, 1, 1, 1, 2, 0, 0])
    out = refine_to_centroids(x, labels, margin=0.05)
    assert out[7] == out[3]  # moved to the b issue
    assert out[8] == out[0]  # stays: not nearer by the margin
    assert list(out[:7]) == [out[0]] * 3 + [out[3]] * 3 + [out[6]]
    assert (out == 2).sum() == 1  # the singleton issue received nobody
    # a margin nobody reaches changes nothing
    assert list(refine_to_centroids(x, labels, margin=2.0)) == list(labels)


def test_refinement_is_on_for_large_sets_only() -> None:
    """Sets under small_set_items keep their average-linkage groups: the refinement is a graph-path step."""
    from callscope.analysis.issues import cluster_embeddings

    rng = np.random.default_rng(5)
    centres = l2_normalise(rng.normal(size=(6, 16)))
    x = l2_normalise(np.repeat(centres, 12, axis=0) + 0.35 * rng.normal(size=(72, 16)))
    on, _ = cluster_embeddings({"e": x}, IssueOptions(small_set_prior=None))
    off, _ = cluster_embeddings({"e": x}, IssueOptions(small_set_prior=None, refine_margin=None))
    assert list(on) == list(off)
    # 240 items take the graph path, where the pass runs: on these six blurred groups it moves
    # the items Louvain put at the wrong edge (ARI 0.75 -> 0.79 with this seed)
    rng = np.random.default_rng(5)
    centres = l2_normalise(rng.normal(size=(6, 16)))
    big = l2_normalise(np.repeat(centres, 40, axis=0) + 0.3 * rng.normal(size=(240, 16)))
    truth = np.repeat(np.arange(6), 40)
    on, _ = cluster_embeddings({"e": big}, IssueOptions(lexical_weight=0))
    off, _ = cluster_embeddings({"e": big}, IssueOptions(lexical_weight=0, refine_margin=None))
    assert adjusted_rand_score(truth, on) > adjusted_rand_score(truth, off) + 0.02


@pytest.mark.slow
def test_large_sets_add_the_english_encoder_to_the_graph_and_leave_chinese_out(clinc_slice, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """Sets of >= small_set_items items get all-MiniLM-L6-v2 as a third graph view (issue #18, sixth
    round): Chinese texts get no vector (no edges) in it, small sets none at all. On 297 real
    questions (30 intents) the partition is coarser than with the two shipped encoders alone (25
    issues, ARI 0.80 against 34, 0.89: BANKING77 gains, this small CLINC150 slice loses; BENCHMARKS.md)."""
    from dataclasses import replace

    from sklearn.metrics import normalized_mutual_info_score

    from callscope.analysis.embeddings import MINILM
    from callscope.analysis.issues import _large_set_views, _languages, embed_items
    from callscope.progress import no_progress

    items, truth = clinc_slice
    with (data_dir / "analysis" / "texts_zh.csv").open(newline="", encoding="utf-8") as fh:
        zh = [IssueItem(f"z{i}", r["text"], "zh") for i, r in enumerate(csv.DictReader(fh))][:20]
    mixed = items + zh
    views = _large_set_views(mixed, _languages(mixed), IssueOptions(), None, None, range(len(mixed)), no_progress)
    assert set(views) == {MINILM}
    norms = np.linalg.norm(views[MINILM], axis=1)
    assert np.allclose(norms[: len(items)], 1.0, atol=1e-4) and not norms[len(items) :].any()
    small = items[:150]
    assert _large_set_views(small, _languages(small), IssueOptions(), None, None, range(150), no_progress) == {}

    options = IssueOptions()
    raw = embed_items(items, replace(options, encoders=options.encoders + options.large_set_encoders))
    result = mine_issues(items, options, embeddings=raw)
    predicted = [result.assignments[i.id] or f"u:{i.id}" for i in items]
    assert 24 <= len(result.issues) <= 45  # 30 intents
    assert normalized_mutual_info_score(truth, predicted) >= 0.93
    assert adjusted_rand_score(truth, predicted) >= 0.78
    fewer = mine_issues(items, IssueOptions(large_set_encoders=()), embeddings=raw)
    assert len(result.issues) < len(fewer.issues)  # the known cost: coarser on this slice
