"""SCROLLS loading: local fixtures, the two caches, and the one-line error when absent (all offline)."""

from __future__ import annotations

import dataclasses
import json
import shutil
import socket
import zipfile
from pathlib import Path

import datasets
import huggingface_hub.constants
import pandas as pd
import pytest

from engine.tasks.example import Example as SharedExample
from engine.tasks.scrolls import SCROLLS_TASKS, Example, TaskUnavailable, load_scrolls

ROWS = [
    {"id": "d1", "pid": "d1_0", "input": "Question one? Document one.", "output": "answer one"},
    {"id": "d2", "pid": "d2_0", "input": "Question two? Document two.", "output": "answer two"},
    {"id": "d3", "pid": "d3_0", "input": "Question three? Document three.", "output": "answer three"},
]


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No sockets, offline flags, and empty datasets and hub caches under tmp_path."""

    def refuse(*args, **kwargs):
        raise OSError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    caches = tmp_path / "caches"
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", caches / "datasets")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(caches / "hub"))
    return caches


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def write_zip(path: Path, name: str, splits: dict[str, list[dict]]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for split, rows in splits.items():
            archive.writestr(f"{name}/{split}.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_tasks_and_example_record() -> None:
    assert SCROLLS_TASKS == {
        "gov_report": "summary",
        "summ_screen_fd": "summary",
        "qmsum": "summary",
        "qasper": "qa",
        "quality": "qa",
    }
    assert Example is SharedExample
    ex = Example(source="s", target="t", kind="qa")
    with pytest.raises(dataclasses.FrozenInstanceError):
        ex.source = "x"  # type: ignore[misc]


def test_local_jsonl(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "qasper_validation.jsonl", ROWS)
    examples = load_scrolls("qasper", "validation", local_path=str(path))
    assert examples == [Example(source=r["input"], target=r["output"], kind="qa", id=r["id"]) for r in ROWS]
    assert load_scrolls("qasper", "validation", local_path=str(path), limit=2) == examples[:2]
    assert load_scrolls("qasper", "validation", local_path=str(path), limit=0) == []


def test_local_parquet_for_a_summary_config(tmp_path: Path) -> None:
    path = tmp_path / "gov.parquet"
    pd.DataFrame(ROWS).to_parquet(path)
    examples = load_scrolls("gov_report", "train", local_path=str(path), limit=1)
    assert examples == [Example(ROWS[0]["input"], ROWS[0]["output"], "summary", id=ROWS[0]["id"])]


def test_local_save_to_disk_folder(tmp_path: Path) -> None:
    folder = tmp_path / "saved"
    datasets.DatasetDict(
        {"train": datasets.Dataset.from_list(ROWS[:1]), "validation": datasets.Dataset.from_list(ROWS[1:])}
    ).save_to_disk(str(folder))
    examples = load_scrolls("qmsum", "validation", local_path=str(folder))
    assert [e.target for e in examples] == ["answer two", "answer three"]
    assert {e.kind for e in examples} == {"summary"}
    with pytest.raises(TaskUnavailable, match="no split 'test'"):
        load_scrolls("qmsum", "test", local_path=str(folder))


def test_local_scrolls_zip_and_its_extracted_folder(tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "quality.zip", "quality", {"validation": ROWS})
    examples = load_scrolls("quality", "validation", local_path=str(archive))
    assert [e.target for e in examples] == ["answer one", "answer two", "answer three"]
    with pytest.raises(TaskUnavailable, match="quality/train.jsonl"):
        load_scrolls("quality", "train", local_path=str(archive))
    extracted = tmp_path / "extracted"
    write_jsonl(extracted / "quality" / "validation.jsonl", ROWS)
    assert load_scrolls("quality", "validation", local_path=str(extracted)) == examples


def test_rows_without_output_are_skipped_and_a_label_free_split_is_refused(tmp_path: Path) -> None:
    rows = [dict(ROWS[0], output=None), ROWS[1], dict(ROWS[2], output="")]
    path = write_jsonl(tmp_path / "mixed.jsonl", rows)
    assert [e.target for e in load_scrolls("qasper", "validation", local_path=str(path))] == ["answer two"]
    test_split = write_jsonl(tmp_path / "test.jsonl", [dict(r, output=None) for r in ROWS])
    with pytest.raises(TaskUnavailable, match="no reference outputs"):
        load_scrolls("qasper", "test", local_path=str(test_split))


def test_bad_local_inputs(tmp_path: Path) -> None:
    no_output = write_jsonl(tmp_path / "bad.jsonl", [{"input": "x", "answer": "y"}])
    with pytest.raises(ValueError, match=r"bad\.jsonl: missing column\(s\) output"):
        load_scrolls("qasper", "validation", local_path=str(no_output))
    odd = tmp_path / "data.csv"
    odd.write_text("input,output\nx,y\n")
    with pytest.raises(ValueError, match="unsupported type"):
        load_scrolls("qasper", "validation", local_path=str(odd))
    with pytest.raises(TaskUnavailable, match="does not exist"):
        load_scrolls("qasper", "validation", local_path=str(tmp_path / "nowhere.jsonl"))
    with pytest.raises(ValueError, match="unknown SCROLLS config 'narrative_qa'"):
        load_scrolls("narrative_qa", "validation")


def test_absent_offline_raises_one_line_naming_the_config() -> None:
    with pytest.raises(TaskUnavailable) as info:
        load_scrolls("qasper", "validation")
    message = str(info.value)
    assert "\n" not in message
    assert "'qasper'" in message and "tau/scrolls" in message
    assert "hf_hub_download('tau/scrolls', 'qasper.zip', repo_type='dataset')" in message
    assert "[data]" in message


def test_hub_cache_zip(offline: Path) -> None:
    # the layout hf_hub_download leaves: refs/main -> snapshots/<sha>/qasper.zip
    repo = offline / "hub" / "datasets--tau--scrolls"
    sha = "0123456789abcdef0123456789abcdef01234567"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(sha)
    (repo / "snapshots" / sha).mkdir(parents=True)
    write_zip(repo / "snapshots" / sha / "qasper.zip", "qasper", {"train": ROWS[:2], "validation": ROWS[2:]})
    examples = load_scrolls("qasper", "validation")
    assert examples == [Example(source=ROWS[2]["input"], target="answer three", kind="qa", id="d3")]
    assert len(load_scrolls("qasper", "train")) == 2
    with pytest.raises(TaskUnavailable, match="'summ_screen_fd'"):
        load_scrolls("summ_screen_fd", "validation")


def test_datasets_cache(offline: Path, tmp_path: Path) -> None:
    # the layout load_dataset("tau/scrolls", "summ_screen_fd") left with datasets < 4:
    # tau___scrolls/summ_screen_fd/<version>/<hash>/{dataset_info.json, scrolls-<split>.arrow}
    source = write_jsonl(tmp_path / "src" / "validation.jsonl", ROWS)
    scratch = tmp_path / "scratch"
    datasets.load_dataset("json", data_files={"validation": str(source)}, cache_dir=str(scratch))
    (built,) = [p.parent for p in scratch.glob("json/*/*/*/dataset_info.json")]
    target = offline / "datasets" / "tau___scrolls" / "summ_screen_fd" / "1.0.0" / "abc123"
    shutil.copytree(built, target)
    for arrow in target.glob("json-*.arrow"):
        arrow.rename(target / arrow.name.replace("json-", "scrolls-"))
    info = json.loads((target / "dataset_info.json").read_text())
    info.update(config_name="summ_screen_fd", dataset_name="scrolls", builder_name="scrolls")
    (target / "dataset_info.json").write_text(json.dumps(info))

    examples = load_scrolls("summ_screen_fd", "validation", limit=2)
    assert examples == [Example(r["input"], r["output"], "summary", id=r["id"]) for r in ROWS[:2]]
    with pytest.raises(TaskUnavailable, match="has no split 'train'"):
        load_scrolls("summ_screen_fd", "train")


# --- SCROLLS' own evaluation: merged ids, best reference, seeded subsets -----------------------

QA_ROWS = [
    {"id": "q1", "pid": "q1_0", "input": "Which colour? The sky is blue.", "output": "blue"},
    {"id": "q1", "pid": "q1_1", "input": "Which colour? The sky is blue.", "output": "light blue"},
    {"id": "q2", "pid": "q2_0", "input": "Which animal? A cat sat.", "output": "a cat"},
    {"id": "q3", "pid": "q3_0", "input": "How many? Three birds.", "output": "three"},
    {"id": "q3", "pid": "q3_1", "input": "How many? Three birds.", "output": "3"},
    {"id": "q3", "pid": "q3_2", "input": "How many? Three birds.", "output": "three birds"},
]


def test_rows_sharing_an_id_become_one_example_with_every_reference(tmp_path: Path) -> None:
    from engine.tasks.scrolls import merge_by_id

    path = write_jsonl(tmp_path / "validation.jsonl", QA_ROWS)
    merged = merge_by_id(load_scrolls("qasper", "validation", local_path=str(path)))
    assert [e.id for e in merged] == ["q1", "q2", "q3"]
    assert [e.all_references for e in merged] == [
        ("blue", "light blue"),
        ("a cat",),
        ("three", "3", "three birds"),
    ]


def test_eval_subset_is_seeded_unique_and_shared(tmp_path: Path) -> None:
    from engine import tasks

    rows = [dict(QA_ROWS[0], id=f"x{i}", output=f"a{i}") for i in range(30)] + QA_ROWS
    write_jsonl(tmp_path / "qasper" / "validation.jsonl", rows)
    pick = tasks.eval_examples("qasper", 10, 7, str(tmp_path))
    assert len({e.id for e in pick}) == 10
    assert pick == tasks.eval_examples("qasper", 10, 7, str(tmp_path))  # every configuration: the same
    assert {e.id for e in pick} != {e.id for e in tasks.eval_examples("qasper", 10, 8, str(tmp_path))}
    assert len(tasks.eval_examples("qasper", 100, 7, str(tmp_path))) == 33  # unique ids, no more
    write_jsonl(tmp_path / "qasper" / "train.jsonl", rows)
    shuffled = tasks.train_examples("qasper", 36, 1, str(tmp_path))
    assert sorted(e.id for e in shuffled) == sorted(r["id"] for r in rows)
    assert [e.id for e in shuffled] != [r["id"] for r in rows]
    assert shuffled == tasks.train_examples("qasper", 36, 1, str(tmp_path))


def test_each_prediction_scores_its_best_reference() -> None:
    from engine.metrics import score

    refs = [("blue", "light blue"), ("a cat",), ("three", "3", "three birds")]
    qa = score("qa", ["light blue", "cat", "3"], refs)
    assert qa["exact_match"] == pytest.approx(1.0)  # "cat" == "a cat" once articles are dropped
    assert score("qa", ["blue sky", "dog", "four birds"], refs)["f1"] == pytest.approx(
        (2 / 3 + 0 + 2 * 0.5 * 0.5 / 1.0) / 3  # blue sky vs blue: P 1/2 R 1; birds vs three birds
    )
    one = score("summary", ["the report funds roads"], [("a report on bridges", "the report funds roads")])
    assert one["rouge1"] == one["rouge2"] == one["rougeL"] == pytest.approx(1.0)


def test_scrolls_scores_without_stemming_and_quality_by_exact_match() -> None:
    from engine import tasks
    from engine.metrics import score

    assert score("summary", ["cats running"], ["cat runs"], stemmer=False)["rouge1"] == 0.0
    assert score("summary", ["cats running"], ["cat runs"])["rouge1"] == 1.0
    assert {t: tasks.primary_metric(t) for t in SCROLLS_TASKS} == {
        "gov_report": "rouge_mean",
        "summ_screen_fd": "rouge_mean",
        "qmsum": "rouge_mean",
        "qasper": "f1",
        "quality": "exact_match",
    }


def test_local_data_is_checked_before_anything_runs(tmp_path: Path) -> None:
    from engine.tasks.scrolls import check_local

    write_jsonl(tmp_path / "ok" / "train.jsonl", ROWS)
    write_jsonl(tmp_path / "ok" / "validation.jsonl", ROWS)
    check_local("qasper", tmp_path / "ok", ("train", "validation"))
    write_zip(tmp_path / "qasper.zip", "qasper", {"train": ROWS, "validation": ROWS})
    check_local("qasper", tmp_path / "qasper.zip", ("train", "validation"))
    bad = write_jsonl(tmp_path / "bad" / "validation.jsonl", [{"id": "1", "input": "x", "answer": "y"}])
    cases = {
        tmp_path / "nowhere": "does not exist",
        tmp_path / "ok.txt": "does not exist",
        bad.parent: "neither train.jsonl",
        tmp_path / "qasper.zip": "holds no qasper/test.jsonl",
    }
    for path, needle in cases.items():
        with pytest.raises(ValueError, match=needle):
            check_local("qasper", path, ("train", "validation", "test") if path.suffix else ("train",))
    with pytest.raises(ValueError, match=r"missing column\(s\) output"):
        check_local("qasper", bad.parent, ("validation",))
