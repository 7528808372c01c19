"""torch.hub entry points: `torch.hub.load(repo, "cnn_bn")` returns the trained model from the committed
checkpoint (`models/checkpoints/<name>.pt`), in eval mode. One entry per model of `zoo.models.REGISTRY`,
named as the model with '-' turned to '_'; `torch.hub.list(repo)` names them, `torch.hub.help` describes one."""

from pathlib import Path

from zoo.models import REGISTRY as _REGISTRY  # torch and the model definitions: nothing else

dependencies = ["torch"]

_CHECKPOINTS = Path(__file__).resolve().parent / "models" / "checkpoints"


def _entry(name: str):
    def load(pretrained: bool = True):
        from zoo.models import build_model, load_checkpoint

        return load_checkpoint(_CHECKPOINTS / f"{name}.pt")[0] if pretrained else build_model(name).eval()

    spec = _REGISTRY[name]
    load.__name__ = load.__qualname__ = name.replace("-", "_")
    load.__doc__ = f"{spec.name}: {spec.description}; input {spec.input}. pretrained=False: untrained weights."
    return load


globals().update({name.replace("-", "_"): _entry(name) for name in _REGISTRY})
