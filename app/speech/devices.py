"""Where the models run: the GPU when one is asked for and present, else the CPU (with a warning,
never a crash: a GPU image started on a machine without one still serves); and how many cores
this process may really use (a container's CPU quota, not the host's core count)."""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

logger = logging.getLogger(__name__)

CGROUP_V2_MAX = Path("/sys/fs/cgroup/cpu.max")
CGROUP_V1_QUOTA = Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
CGROUP_V1_PERIOD = Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us")


def _quota_cores(
    v2: Path = CGROUP_V2_MAX, v1_quota: Path = CGROUP_V1_QUOTA, v1_period: Path = CGROUP_V1_PERIOD
) -> int | None:
    try:
        quota, period = v2.read_text().split()[:2]
        if quota != "max":
            return max(1, math.ceil(int(quota) / int(period)))
        return None
    except (OSError, ValueError):
        pass
    try:
        quota_us = int(v1_quota.read_text())
        if quota_us > 0:
            return max(1, math.ceil(quota_us / int(v1_period.read_text())))
    except (OSError, ValueError):
        pass
    return None


def available_cores() -> int:
    """The cores this process may use: its CPU affinity, capped by a cgroup CPU quota."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    quota = _quota_cores()
    return max(1, min(cores, quota) if quota else cores)


def cuda_devices() -> int:
    try:
        import ctranslate2

        return int(ctranslate2.get_cuda_device_count())
    except Exception:  # no CUDA runtime at all
        return 0


def whisper_device(requested: str, compute_type: str) -> tuple[str, str]:
    """(device, compute type) to load Whisper with. `auto` takes the GPU when there is one."""
    if requested in ("cuda", "auto") and cuda_devices() > 0:
        return "cuda", compute_type
    if requested == "cuda":
        logger.warning("VOXPARSE_WHISPER_DEVICE=cuda but no CUDA device is usable: running Whisper on the CPU")
    # float16 is a GPU type; int8 is the fast CPU one.
    return "cpu", "int8" if compute_type in ("float16", "int8_float16", "bfloat16") else compute_type


def torch_device(requested: str) -> str:
    """The diarizer's device: `cuda` only where torch sees a GPU."""
    if requested in ("cuda", "auto"):
        import torch

        if torch.cuda.is_available():
            return "cuda"
        if requested == "cuda":
            logger.warning("VOXPARSE_DIARIZER_DEVICE=cuda but torch sees no GPU: diarizing on the CPU")
    return "cpu"
