"""The reference's Python example, unchanged but for where BASE, the key and the file come from.

VOXPARSE_BASE=http://127.0.0.1:8000 VOXPARSE_API_KEY=vxp_live_... python examples/python_requests.py call.mp3
"""

import os
import sys
import time

import requests

API_KEY = os.environ.get("VOXPARSE_API_KEY", "YOUR_API_KEY")
BASE = os.environ.get("VOXPARSE_BASE", "https://api.voxparse.com")
RECORDING = sys.argv[1] if len(sys.argv) > 1 else "recording.mp3"
headers = {"X-API-Key": API_KEY}
# 1. Upload audio
with open(RECORDING, "rb") as f:
    r = requests.post(
        f"{BASE}/v1/transcribe",
        headers=headers,
        files={"file": f},
        data={"plan": "transcription-ai", "language": "en"},
    )
job = r.json()
job_id = job["job_id"]
print(f"Job created: {job_id}")
# 2. Poll for completion
while True:
    r = requests.get(f"{BASE}/v1/jobs/{job_id}", headers=headers)
    status = r.json()["status"]
    print(f"Status: {status}")
    if status in ("completed", "failed"):
        break
    time.sleep(5)
# 3. Download result
if status == "completed":
    r = requests.get(f"{BASE}/v1/jobs/{job_id}/result", headers=headers)
    transcript = r.json()
    print(transcript)
