"""The speech models of one process, loaded once and shared by every request."""

from __future__ import annotations

import logging
import threading
import time

from app.analysis import embeddings, ner, spoken
from app.analysis.llm import LLMAnalyzer
from app.config import Settings
from app.speech import devices, memory
from app.speech.asr import Transcriber, WhisperTranscriber
from app.speech.diarization import ChannelDiarizer, Diarizer, PyannoteDiarizer, SenkoDiarizer

logger = logging.getLogger(__name__)


class ModelRegistry:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        # Before any model starts its threads: each thread that allocates may otherwise get a heap.
        memory.limit_malloc_arenas(settings.malloc_arenas)
        self._lock = threading.Lock()
        self._transcriber: Transcriber | None = None
        self._diarizer: Diarizer | None = None
        self.channels = ChannelDiarizer()
        self.llm = self._make_llm(settings)

    @staticmethod
    def _make_llm(settings: Settings) -> LLMAnalyzer | None:
        """The analysis LLM client, when all three LLM settings are given."""
        if not (settings.llm_base_url and settings.llm_model):
            return None
        return LLMAnalyzer(
            base_url=settings.llm_base_url,
            api_key=settings.llm_api_key.get_secret_value() if settings.llm_api_key else "none",
            model=settings.llm_model,
            timeout=settings.llm_timeout_seconds,
        )

    def transcriber(self) -> Transcriber:
        with self._lock:
            if self._transcriber is None:
                s = self._settings
                started = time.perf_counter()
                device, compute_type = devices.whisper_device(s.whisper_device, s.whisper_compute_type)
                self._transcriber = WhisperTranscriber(
                    s.whisper_model,
                    device=device,
                    compute_type=compute_type,
                    beam_size=s.whisper_beam_size,
                    batch_size=s.whisper_batch_size,
                    cpu_threads=s.whisper_cpu_threads or devices.available_cores(),
                    vad_filter=s.whisper_vad,
                    workers=s.max_concurrent_transcriptions,
                    models_dir=s.models_dir,
                    temperature_fallback=s.whisper_temperature_fallback,
                )
                logger.info(
                    "loaded whisper %s (%s, %s) in %.1f s", s.whisper_model, device, compute_type,
                    time.perf_counter() - started,
                )  # fmt: skip
            return self._transcriber

    def diarizer(self) -> Diarizer:
        with self._lock:
            if self._diarizer is None:
                s = self._settings
                started = time.perf_counter()
                device = devices.torch_device(s.diarizer_device)
                if s.diarizer == "pyannote":
                    token = s.pyannote_token.get_secret_value() if s.pyannote_token else None
                    self._diarizer = PyannoteDiarizer(s.pyannote_pipeline, token, device)
                else:
                    senko = SenkoDiarizer(device, s.numba_cache_dir)
                    senko.warm_up()
                    self._diarizer = senko
                # Tracing and warming the models leaves hundreds of MB freed but held by the heap.
                memory.release_free_memory()
                logger.info("loaded diarizer %s in %.1f s", s.diarizer, time.perf_counter() - started)
            return self._diarizer

    def load_all(self) -> None:
        self.transcriber()
        self.diarizer()
        ner.warm_up()
        embeddings.warm_up()
        spoken.written("twenty dollars")  # loads the grammars

    def status(self) -> dict[str, str]:
        return {
            "transcription": "ready" if self._transcriber is not None else "not_loaded",
            "diarization": "ready" if self._diarizer is not None else "not_loaded",
            "analysis": "llm" if self.llm is not None else "rules",
        }
