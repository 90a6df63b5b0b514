"""Devices: parsing, unavailable devices, batches moved by the trainer, checkpoints that load on
any device, and bf16 networks that keep the TC estimate in float32."""

import pyro
import pytest
import torch

from pyrodis.data import DSprites
from pyrodis.devices import available_devices, resolve_device
from pyrodis.inference import TCELBO
from pyrodis.inference.tc_estimators import minibatch_stratified_log_qz
from pyrodis.models import VAE
from pyrodis.training import Trainer

HAS_CUDA = torch.cuda.is_available()


def test_device_settings_parse_and_unavailable_devices_name_the_available_ones():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(" CPU ") == torch.device("cpu")
    assert resolve_device("auto").type in ("cpu", "cuda", "mps")
    assert resolve_device(None) == resolve_device("auto")
    assert "cpu" in available_devices()
    if not HAS_CUDA:
        with pytest.raises(ValueError, match=r"'cuda' is not available.*available: \['cpu'"):
            resolve_device("cuda")
        with pytest.raises(ValueError, match="'cuda:3' is not available"):
            resolve_device("cuda:3")
    with pytest.raises(ValueError, match="unknown device 'gpu'"):
        resolve_device("gpu")


def _tiny_vae(**kw):
    return VAE(
        latent_dim=3, image_shape=(1, 32, 32), architecture="mlp", hidden=(16,), num_data=64, **kw
    )


class Small(torch.utils.data.Dataset):
    def __init__(self):
        self.x = (torch.rand(64, 1, 32, 32) > 0.7).float()

    def __len__(self):
        return 64

    def __getitem__(self, i):
        return self.x[i]


def test_trainer_moves_batches_to_its_device():
    vae = _tiny_vae()
    seen = []
    trainer = Trainer(
        vae.model, vae.guide, TCELBO(), Small(), batch_size=8, device="cpu", progress=False
    )
    trainer.callbacks.append((1, lambda t, terms: seen.append(t.batch(t.step)[0].device.type)))
    trainer.run(2)
    assert seen == ["cpu", "cpu"] and trainer.device == torch.device("cpu")


@pytest.mark.skipif(
    not HAS_CUDA,
    reason="no CUDA device on this machine: the GPU path is exercised by benchmarks/bench_device.py where one exists",
)
def test_a_run_trained_on_gpu_restores_on_cpu():
    from pyrodis.training.param_state import restore_params

    gpu = _tiny_vae().to("cuda")
    x = Small().x[:4]
    trainer = Trainer(
        gpu.model, gpu.guide, TCELBO(), Small(), batch_size=8, device="cuda", progress=False
    )
    trainer.run(2)
    state = trainer.state_dict()
    pyro.clear_param_store()
    cpu = _tiny_vae()
    restore_params(
        cpu.model, cpu.guide, (x, torch.arange(4)), {k: v.cpu() for k, v in state["params"].items()}
    )
    assert torch.allclose(cpu.encode(x)[0], gpu.encode(x.cuda())[0].cpu(), atol=1e-5)


def test_bf16_networks_keep_the_tc_estimate_in_float32():
    torch.manual_seed(0)
    full, half = _tiny_vae(), _tiny_vae(precision="bf16")
    half.load_state_dict(full.state_dict())
    x = DSprites().observations(DSprites().sample_factors(32, 0))[:, :, ::2, ::2].contiguous()
    loc, scale = half.encode(x)
    assert loc.dtype == scale.dtype == torch.float32  # bf16 inside, float32 out
    assert torch.allclose(loc, full.encode(x)[0], atol=0.05)
    z = loc + scale * torch.randn_like(loc)
    pairs = torch.distributions.Normal(loc, scale).log_prob(z.unsqueeze(1))
    log_qz, log_prod = minibatch_stratified_log_qz(pairs, 737_280)
    exact_qz, exact_prod = minibatch_stratified_log_qz(pairs.double(), 737_280)
    assert torch.allclose(log_qz.double(), exact_qz, atol=1e-4)
    assert torch.allclose((log_qz - log_prod).double(), exact_qz - exact_prod, atol=1e-4)
    bf16_qz, _ = minibatch_stratified_log_qz(pairs.bfloat16(), 737_280)
    assert (bf16_qz.double() - exact_qz).abs().max() > 1e-3  # what keeping float32 avoids
    with pytest.raises(ValueError, match="precision must be"):
        _tiny_vae(precision="16")
