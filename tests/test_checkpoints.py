import json
import threading

import pytest
import torch

from studio import Registry, StudioError, load_model, save_checkpoint
from studio.checkpoints import check_name, read_spec
from studio.device import pick_device
from studio.models import build

from .conftest import LABELS, make_latent


def test_round_trip_gives_equal_outputs(tmp_path):
    torch.manual_seed(0)
    g = build("dcgan", {"z_dim": 16, "width": 8}).eval()
    save_checkpoint(g, "round", {"task": "latent", "image_size": 64}, root=tmp_path)
    loaded = Registry(tmp_path).get("round")
    z = torch.randn(3, 16)
    assert torch.equal(g(z), loaded(z))
    assert not loaded.training and not any(p.requires_grad for p in loaded.parameters())


def test_half_precision_on_disk_loads_as_float32(tmp_path):
    g = build("dcgan", {"z_dim": 16, "width": 8}).eval()
    save_checkpoint(g, "half", {"task": "latent", "image_size": 64}, root=tmp_path, half=True)
    loaded = Registry(tmp_path).get("half")
    assert next(loaded.parameters()).dtype == torch.float32
    z = torch.randn(2, 16)
    assert torch.allclose(g(z), loaded(z), atol=1e-2)


def test_spec_is_read_without_building(ckpt_root):
    registry = Registry(ckpt_root)
    assert registry.names() == ["tiny-classes", "tiny-latent"]
    assert registry.names("conditional") == ["tiny-classes"]
    assert registry.spec("tiny-classes").labels == tuple(LABELS)
    assert registry.loaded() == []


@pytest.mark.parametrize("name", ["../etc", "a/b", "Upper", "-lead", "", "x" * 80, "..", "a b"])
def test_bad_names_are_refused(ckpt_root, name):
    with pytest.raises(StudioError, match="Invalid checkpoint name"):
        Registry(ckpt_root).get(name)
    with pytest.raises(StudioError):
        check_name(name)


def test_unknown_name_lists_available(ckpt_root):
    with pytest.raises(StudioError, match="Available: tiny-classes, tiny-latent"):
        Registry(ckpt_root).get("nope")


def test_corrupt_weights_name_the_folder_and_the_rest_works(ckpt_root):
    (ckpt_root / "tiny-latent" / "model.safetensors").write_bytes(b"garbage" * 10)
    registry = Registry(ckpt_root)
    with pytest.raises(StudioError, match="tiny-latent.*corrupt"):
        registry.get("tiny-latent")
    assert registry.get("tiny-classes") is not None


def test_missing_weights_and_bad_json(ckpt_root):
    (ckpt_root / "tiny-latent" / "model.safetensors").unlink()
    (ckpt_root / "tiny-classes" / "studio.json").write_text("{not json")
    make_latent(ckpt_root, "ok")
    registry = Registry(ckpt_root)
    with pytest.raises(StudioError, match="missing"):
        registry.get("tiny-latent")
    with pytest.raises(StudioError, match="not valid JSON"):
        registry.get("tiny-classes")
    assert "tiny-classes" in registry.problems
    assert registry.names() == ["ok", "tiny-latent"]
    assert registry.get("ok") is not None


def test_wrong_arch_args_is_a_mismatch(ckpt_root):
    path = ckpt_root / "tiny-latent" / "studio.json"
    spec = json.loads(path.read_text())
    spec["arch_args"]["width"] = 16
    path.write_text(json.dumps(spec))
    with pytest.raises(StudioError, match="do not match.*shape mismatch"):
        Registry(ckpt_root).get("tiny-latent")
    spec["arch_args"]["bogus"] = 1
    path.write_text(json.dumps(spec))
    with pytest.raises(StudioError, match="Bad arch_args"):
        Registry(ckpt_root).get("tiny-latent")


@pytest.mark.parametrize("field,value,message", [("arch", "vae", "unknown arch"), ("task", "video", "task must be"),
                                                 ("format", 99, "format must be"), ("labels", ["one"], "two labels")])
def test_invalid_descriptions(ckpt_root, field, value, message):
    path = ckpt_root / "tiny-classes" / "studio.json"
    spec = json.loads(path.read_text())
    spec[field] = value
    path.write_text(json.dumps(spec))
    with pytest.raises(StudioError, match=message):
        read_spec(path.parent)


def test_lru_eviction_and_unload(ckpt_root):
    make_latent(ckpt_root, "third")
    registry = Registry(ckpt_root, max_loaded=2)
    registry.get("tiny-latent")
    registry.get("tiny-classes")
    registry.get("tiny-latent")  # now most recent
    registry.get("third")
    assert registry.loaded() == ["tiny-latent", "third"]
    registry.unload("third")
    assert registry.loaded() == ["tiny-latent"]
    registry.unload()
    assert registry.loaded() == []


def test_concurrent_get_builds_once(ckpt_root):
    registry = Registry(ckpt_root)
    results = []
    threads = [threading.Thread(target=lambda: results.append(registry.get("tiny-latent"))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(m) for m in results}) == 1


def test_save_is_atomic_and_overwrites(tmp_path):
    make_latent(tmp_path, "m", width=8)
    make_latent(tmp_path, "m", width=4)
    assert read_spec(tmp_path / "m").arch_args["width"] == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_device_selection(monkeypatch):
    monkeypatch.delenv("STUDIO_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else ("mps" if torch.backends.mps.is_available() else "cpu")
    assert pick_device().type == expected
    monkeypatch.setenv("STUDIO_DEVICE", "cpu")
    assert pick_device().type == "cpu"
    monkeypatch.setenv("STUDIO_DEVICE", "toaster")
    with pytest.raises(StudioError, match="not a torch device"):
        pick_device()
    if not torch.cuda.is_available():
        monkeypatch.setenv("STUDIO_DEVICE", "cuda")
        with pytest.raises(StudioError, match="CUDA is not available"):
            pick_device()


def test_load_model_places_on_device(ckpt_root):
    model = load_model(read_spec(ckpt_root / "tiny-latent"), "cpu")
    assert next(model.parameters()).device.type == "cpu"
    assert model.spec.name == "tiny-latent"


def test_a_featured_checkpoint_comes_first_for_its_task(tmp_path):
    for name in ("a-gan", "b-gan", "c-gan"):
        make_latent(tmp_path, name)
    assert Registry(tmp_path).names("latent") == ["a-gan", "b-gan", "c-gan"]
    spec = json.loads((tmp_path / "c-gan" / "studio.json").read_text())
    (tmp_path / "c-gan" / "studio.json").write_text(json.dumps({**spec, "featured": True}))
    assert Registry(tmp_path).names("latent") == ["c-gan", "a-gan", "b-gan"]
