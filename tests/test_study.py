"""The study's own path: timeouts from the budget, its training, local data and weights, the dry run,
a missing device, and the paper-cpu rehearsal through the real runner (all offline, on the CPU)."""

from __future__ import annotations

import dataclasses
import json
import time
import types
from pathlib import Path

import pytest

from engine.config import Budget, Optimizer, RunConfig
from engine.preset import PresetError, load_preset
from engine.tasks.synthetic import scrolls_rows
from engine.timeouts import timeout_s
from tui.cli import main

ROOT = Path(__file__).resolve().parents[1]


def write_scrolls(folder: Path, task: str, synthetic_task: str, train: int, validation: int) -> Path:
    """A folder of SCROLLS jsonl files for `task`, made from the synthetic task."""
    for split, n in (("train", train), ("validation", validation)):
        path = folder / task / f"{split}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(r) + "\n" for r in scrolls_rows(synthetic_task, split, n, 5)))
    return folder / task


# --- timeouts -------------------------------------------------------------------------------------


def test_timeouts_follow_the_budget_and_can_be_set():
    paper = load_preset("paper").grid()
    assert all(timeout_s(c) > 1.2 * 1800 for c in paper)  # never killed by its own budget
    steps = RunConfig("led", "tiny", 128, budget=Budget("steps", 500))
    assert timeout_s(steps) > timeout_s(dataclasses.replace(steps, budget=Budget("steps", 5)))
    joules = RunConfig("led", "tiny", 128, budget=Budget("joules", 40_000))
    assert timeout_s(joules) > 40_000 / 4.0  # seconds at one core's power
    assert timeout_s(joules, override=60.0) == 60.0
    infer_only = dataclasses.replace(joules, phases=("infer",))
    assert timeout_s(infer_only) < timeout_s(joules)


def test_a_preset_sets_the_timeout_and_the_optimizer(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(
        '[grid]\nfamilies = ["led"]\nsizes = ["tiny"]\ninput_lens = [64]\n'
        '[run]\ntimeout_s = 90\noptimizer = { name = "adam", betas = [0.9, 0.999], weight_decay = 0 }\n'
        'device = "cuda:1"\n'
    )
    preset = load_preset(path)
    (config,) = preset.grid()
    assert preset.timeout_s == 90.0
    assert config.optimizer == Optimizer("adam", (0.9, 0.999), 1e-6, 0.0)
    assert config.device == "cuda:1"
    assert RunConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


# --- training as the study did it -----------------------------------------------------------------


def test_the_schedule_warms_up_over_a_tenth_of_the_budget_then_decays_to_zero():
    from engine.phases.train import lr_factor

    assert [round(lr_factor(p), 3) for p in (0.0, 0.05, 0.1, 0.55, 1.0, 1.2)] == [0, 0.5, 1, 0.5, 0, 0]


def test_the_horizon_follows_the_seconds_spent_even_after_a_slow_start(monkeypatch):
    """The first steps are ten times slower than the rest: a horizon guessed from them would end the
    schedule far too early; following the fraction spent, the rate peaks and reaches zero at the end."""
    from engine.meters.energy import EstimateMeter
    from engine.phases import train
    from engine.phases.context import PhaseContext

    rates: list[float] = []

    class Stepper:
        def __init__(self, ctx, lr):
            self.optimizer = types.SimpleNamespace(param_groups=[{"lr": lr}])

        def step(self, batch):
            rates.append(self.optimizer.param_groups[0]["lr"])
            time.sleep(0.1 if len(rates) <= 3 else 0.01)
            return 1.0

    monkeypatch.setattr(train, "Stepper", Stepper)
    config = RunConfig("led", "tiny", 64, budget=Budget("seconds", 1.5), lr=1.0)
    model = types.SimpleNamespace(train=lambda: None)
    ctx = PhaseContext(config, model, None, EstimateMeter(), 0.0, 2)
    ctx.__dict__["train_set"] = types.SimpleNamespace(batch=lambda step, size: {}, tokenise_s=0.0, size=8)
    result = train.run(ctx)
    assert result.figures["steps"] == len(rates) > 50
    assert rates[0] == 0.0 and max(rates) > 0.9 and rates[-1] < 0.05
    peak = rates.index(max(rates))
    assert all(a >= b for a, b in zip(rates[peak:], rates[peak + 1 :], strict=False))  # decays to the end


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_half_dtypes_train_in_mixed_precision_and_infer_in_half(dtype):
    import torch

    from engine.runner import measure

    config = RunConfig(
        "led", "tiny", 64, dtype=dtype, batch_size=2, budget=Budget("steps", 2), phases=("train", "infer"),
        repetitions=1, min_window_s=0.05, warmup=0, gen_tokens=4,
    )  # fmt: skip
    record = measure(config, idle_w=0.0)
    assert record.status == "ok", record.failure
    assert record.dims["train_precision"].startswith(f"mixed {dtype} (autocast")
    assert ("GradScaler" in record.dims["train_precision"]) is (dtype == "float16")
    from engine.models import build, inference_dtype
    from engine.phases.context import PhaseContext
    from engine.phases.train import Stepper

    built = build(config)
    assert {p.dtype for p in built.model.parameters()} == {torch.float32}  # the master weights
    stepper = Stepper(PhaseContext(config, built.model, built.tokenizer, None, 0.0, 2), 1e-3)
    assert stepper.scaler.is_enabled() is (dtype == "float16")
    inference_dtype(built.model, config)
    assert {p.dtype for p in built.model.parameters()} == {getattr(torch, dtype)}


def test_training_rows_are_tokenised_once_and_shuffled_by_the_seed(tmp_path):
    from engine.models import build
    from engine.phases.context import PhaseContext

    data = write_scrolls(tmp_path, "gov_report", "synthetic", 12, 4)
    config = RunConfig("led", "tiny", 64, task="gov_report", data_path=str(data), batch_size=5)
    built = build(config)
    ctx = PhaseContext(config, built.model, built.tokenizer, None, 0.0, 5)
    rows = ctx.train_set
    assert ctx.train_set is rows and rows.size == 12 and rows.tokenise_s > 0
    epoch = [rows.batch(s, 4)["input_ids"] for s in range(3)]  # 12 rows: one epoch
    import torch

    firsts = torch.cat(epoch)[:, :8]
    assert len({tuple(r.tolist()) for r in firsts}) == 12  # every row once per epoch
    other = PhaseContext(dataclasses.replace(config, seed=1), built.model, built.tokenizer, None, 0.0, 5)
    assert not torch.equal(other.train_set.batch(0, 4)["input_ids"], epoch[0])
    big = rows.batch(0, 32)["input_ids"]  # three epochs in one batch, asked again as the batch search does
    assert torch.equal(rows.batch(0, 32)["input_ids"], big) and torch.equal(big[:4], epoch[0])


def test_metered_gives_up_on_a_meter_that_never_reads(monkeypatch):
    from engine.meters.energy import EnergyMeter, WindowTooShort
    from engine.phases.context import MeterSilent, PhaseContext, metered

    class Silent(EnergyMeter):
        source = "nvml-counter"

        def _read(self):
            return 0

        def end(self, token):
            raise WindowTooShort("nvml-counter: read 0 J")

    ctx = PhaseContext(RunConfig("led", "tiny", 64), None, None, Silent(), 0.0, 1)
    with pytest.raises(MeterSilent, match="nvml-counter read no energy over"):
        metered(ctx, lambda: time.sleep(0.01), max_s=0.1)


# --- tokenizer, weights ---------------------------------------------------------------------------


def test_a_model_without_a_tokenizer_gets_one_trained_once_on_the_task(tmp_path, monkeypatch):
    from engine import vocab

    data = write_scrolls(tmp_path / "data", "qasper", "synthetic-qa", 20, 4)
    monkeypatch.setattr(vocab, "cache_root", lambda: tmp_path / "a" / "checkpoints")
    tok = vocab.task_tokenizer("qasper", 512, str(data))
    (saved,) = (tmp_path / "a" / "tokenizers").glob("qasper-bpe512-*.json")
    first = saved.stat().st_mtime_ns
    assert vocab.task_tokenizer("qasper", 512, str(data)).get_vocab() == tok.get_vocab()
    assert saved.stat().st_mtime_ns == first  # cached, not trained again
    monkeypatch.setattr(vocab, "cache_root", lambda: tmp_path / "b" / "checkpoints")
    vocab.task_tokenizer("qasper", 512, str(data))
    (again,) = (tmp_path / "b" / "tokenizers").glob("*.json")
    assert again.read_text() == saved.read_text()  # deterministic
    assert len(tok) <= 512 and tok.pad_token_id == 0 and tok.eos_token_id == 2
    ids = tok("q03 ? bakin")["input_ids"]
    assert ids[-1] == tok.eos_token_id and tok.decode(ids, skip_special_tokens=True).strip() == "q03 ? bakin"


def test_weights_per_model_and_a_pickle_only_checkpoint(tmp_path):
    import torch

    from engine.models import ModelUnavailable, build

    base = RunConfig("led", "tiny", 64)
    built = build(base)
    ckpt = tmp_path / "ckpt" / "led-tiny"
    ckpt.mkdir(parents=True)
    built.model.config.save_pretrained(ckpt)
    torch.save(built.model.state_dict(), ckpt / "pytorch_model.bin")
    preset = tmp_path / "p.toml"
    preset.write_text(
        '[grid]\nfamilies = ["led", "bigbird-pegasus"]\nsizes = ["tiny"]\nweights = "pretrained"\n'
        'input_lens = [64]\n[weights]\nled-tiny = "ckpt/led-tiny"\nbigbird-pegasus-tiny = "org/bb-tiny"\n'
    )
    led, bigbird = load_preset(preset).grid()
    assert led.weights_path == str(ckpt) and bigbird.weights_path == "org/bb-tiny"
    loaded = build(led)
    assert loaded.dims["weights_format"] == "pytorch_model.bin (weights-only)"
    assert loaded.dims["checkpoint"] == str(ckpt)

    class Payload:
        def __reduce__(self):
            return (Path.touch, (tmp_path / "pwned",))

    torch.save({"model": Payload()}, ckpt / "pytorch_model.bin")
    with pytest.raises(ModelUnavailable, match="convert it") as err:
        build(led)
    assert "\n" not in str(err.value) and not (tmp_path / "pwned").exists()


# --- presets, dry run, device ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, needle",
    [
        ('qasper = "nowhere"', "data.qasper: .*nowhere does not exist"),
        ('narrative_qa = "d"', "data.narrative_qa: unknown key"),
        ('qasper = "bad"', r"data.qasper: .*missing column\(s\) output"),
    ],
)
def test_bad_data_entries_are_preset_errors(tmp_path, data, needle):
    (tmp_path / "bad").mkdir()
    for split in ("train", "validation"):
        (tmp_path / "bad" / f"{split}.jsonl").write_text('{"id": "1", "input": "x", "answer": "y"}\n')
    path = tmp_path / "p.toml"
    path.write_text(
        '[grid]\nfamilies = ["led"]\nsizes = ["tiny"]\ninput_lens = [64]\ntasks = ["qasper"]\n'
        f"[data]\n{data}\n"
    )
    with pytest.raises(PresetError, match=needle) as err:
        load_preset(path)
    assert "\n" not in str(err.value)


def test_a_data_file_without_output_is_one_line_exit_2_and_nothing_written(tmp_path, capsys):
    data = tmp_path / "gov.jsonl"
    data.write_text('{"id": "1", "input": "a document", "summary": "not the output column"}\n')
    preset = tmp_path / "p.toml"
    preset.write_text(
        '[grid]\nfamilies = ["led"]\nsizes = ["tiny"]\ninput_lens = [64]\ntasks = ["gov_report"]\n'
        '[data]\ngov_report = "gov.jsonl"\n'
    )
    before = sorted(tmp_path.iterdir())
    assert main(["--preset", str(preset), "--db", str(tmp_path / "r.sqlite")]) == 2
    err = capsys.readouterr().err
    assert (
        err.count("\n") == 1 and f"{preset}:7: data.gov_report:" in err and "missing column(s) output" in err
    )
    assert sorted(tmp_path.iterdir()) == before


def test_dry_run_prints_every_configuration_and_what_is_missing(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    import datasets
    import huggingface_hub.constants

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf" / "datasets")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    db = tmp_path / "r.sqlite"
    assert main(["--preset", "paper", "--dry-run", "--db", str(db)]) == 2
    out = capsys.readouterr().out
    configs = load_preset("paper").grid()
    lines = [line for line in out.splitlines() if " on cuda: timeout " in line]
    assert len(lines) == len(configs)
    assert all(int(line.split("timeout ")[1].split(" s")[0]) > 1800 for line in lines)
    missing = [line for line in out.splitlines() if line.startswith("missing ")]
    assert len(missing) == 4 + 3  # four tasks' data, three models: one line each
    assert any("allenai/led-large-16384" in line and "[weights]" in line for line in missing)
    assert any("qasper" in line and "[data]" in line for line in missing)
    assert not db.exists()
    assert main(["--preset", "paper-cpu", "--dry-run", "--db", str(db)]) == 0
    assert "ready to run" in capsys.readouterr().out and not db.exists()


def test_a_device_that_is_not_there_is_one_line_before_anything_starts(tmp_path, capsys, monkeypatch):
    import torch

    from engine.plan import device_problem

    db = tmp_path / "r.sqlite"
    monkeypatch.setattr(torch.version, "cuda", None)
    assert main(["--preset", "paper", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "run.device: 'cuda'" in err and torch.__version__ in err
    assert "built without CUDA" in err and 'device = "cpu"' in err and not db.exists()
    monkeypatch.setattr(torch.version, "cuda", "12.8")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert "torch sees 2 CUDA device(s)" in device_problem("cuda:5")
    assert device_problem("cuda:1") is None and device_problem("cpu") is None


# --- the rehearsal --------------------------------------------------------------------------------


def test_the_shipped_rehearsal_data_is_what_the_synthetic_task_writes():
    for task, synthetic_task in (("gov_report", "synthetic"), ("qasper", "synthetic-qa")):
        for split, n in (("train", 40), ("validation", 16)):
            shipped = (ROOT / "presets" / "paper-cpu" / task / f"{split}.jsonl").read_text()
            assert shipped == "".join(
                json.dumps(r) + "\n" for r in scrolls_rows(synthetic_task, split, n, 2022)
            )


def test_paper_cpu_in_small_through_the_real_runner_on_data_it_has_never_seen(tmp_path):
    """The rehearsal's shape, smaller: both families, SCROLLS files, auto batch, seconds, all phases."""
    data = tmp_path / "data"
    write_scrolls(data, "gov_report", "synthetic", 12, 4)
    write_scrolls(data, "qasper", "synthetic-qa", 12, 6)
    text = (ROOT / "presets" / "paper-cpu.toml").read_text()
    text = text.replace("input_lens = [64, 128, 192, 256]", "input_lens = [64]")
    text = text.replace('"paper-cpu/', '"data/').replace("seconds = 5", "seconds = 1")
    text = text.replace("eval_samples = 8", "eval_samples = 3").replace("gen_tokens = 12", "gen_tokens = 4")
    preset = tmp_path / "rehearsal.toml"
    preset.write_text(text.replace('tasks = ["gov_report", "qasper"]', 'tasks = ["qasper"]'))
    out = tmp_path / "r.json"
    assert main(["--preset", str(preset), "--db", str(tmp_path / "r.sqlite"), "--export", str(out)]) == 0
    from engine.record import Record

    rows = [Record.from_dict(r).flat() for r in json.loads(out.read_text())["records"]]
    assert {r["family"] for r in rows} == {"led", "bigbird-pegasus"}
    for row in rows:
        assert row["status"] == "ok" and row["batch_request"] == "auto" and row["batch_size"] >= 1
        assert row["eval_references"] >= row["eval_examples"] == 3  # unique ids, with all their references
        assert 0 <= row["score"] == row["f1"] <= 1
        assert row["train_steps"] >= 1 and row["train_tokenise_s"] > 0


def test_the_gpu_check_is_ready_for_the_first_gpu():
    """It cannot run here: its preset plans the three published models at 1024 and 4096 tokens with
    nothing to download, its script parses, and its side-by-side check imports."""
    import subprocess

    from engine.plan import needs

    configs = load_preset(ROOT / "benchmarks" / "gpu_check.toml").grid()
    assert {(c.family, c.size, c.input_len) for c in configs} == {
        (f, s, n)
        for f, s in (("led", "base"), ("led", "large"), ("bigbird-pegasus", "large"))
        for n in (1024, 4096)
    }
    assert all(c.phases == ("train", "infer", "eval") and c.device == "cuda" for c in configs)
    assert all(needs(c) == [] for c in configs)
    assert subprocess.run(["bash", "-n", str(ROOT / "benchmarks" / "gpu_check.sh")]).returncode == 0
    import importlib.util

    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "benchmarks" / "gpu_check.py")
    spec.loader.exec_module(importlib.util.module_from_spec(spec))


def test_a_saved_preset_keeps_its_data_weights_optimizer_and_timeout(tmp_path):
    from engine.preset_file import save_preset

    (tmp_path / "ckpt").mkdir()
    path = tmp_path / "p.toml"
    path.write_text(
        (ROOT / "presets" / "paper-cpu.toml")
        .read_text()
        .replace('"paper-cpu/', f'"{ROOT}/presets/paper-cpu/')
        + 'timeout_s = 120\noptimizer = { name = "adam", weight_decay = 0 }\n'
        '[weights]\nled-tiny = "ckpt"\nbigbird-pegasus-large = "google/bigbird-pegasus-large-pubmed"\n'
    )
    preset = load_preset(path)
    saved = save_preset(preset, tmp_path / "saved.toml")
    assert dataclasses.replace(saved, name=preset.name, path=preset.path) == preset
    assert saved.grid() == preset.grid()


def test_the_scrolls_score_of_a_model_averages_its_tasks():
    from engine.metrics import scrolls_score
    from tests.faults import fake_record
    from tui.headless import _scrolls_lines

    assert scrolls_score({"gov_report": 0.2, "qasper": 0.4, "quality": 0.6}) == pytest.approx(0.4)
    records = [
        dataclasses.replace(fake_record(RunConfig("led", "base", 1024, task=t)), metrics={"score": v})
        for t, v in (("gov_report", 0.2), ("qasper", 0.5), ("synthetic", 0.9))
    ]
    lone = dataclasses.replace(
        fake_record(RunConfig("led", "large", 1024, task="qasper")), metrics={"score": 1}
    )
    assert _scrolls_lines([*records, lone]) == [
        "SCROLLS score of led-base n=1024 b=4: 0.350 (the mean of gov_report 0.200, qasper 0.500)"
    ]
