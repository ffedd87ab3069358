"""The reference's Apex example, unchanged but for where the base URL and the key come from.

VOXPARSE_BASE=http://127.0.0.1:8000 VOXPARSE_API_KEY=vxp_live_... python examples/apex_openai_sdk.py
"""

import os

from openai import OpenAI

# Point the OpenAI SDK at VoxParse
client = OpenAI(
    base_url=os.environ.get("VOXPARSE_BASE", "https://api.voxparse.com") + "/v1/apex",
    api_key=os.environ.get("VOXPARSE_API_KEY", "YOUR_VOXPARSE_API_KEY"),
)
# Works exactly like the OpenAI API
response = client.chat.completions.create(
    model="apex-latest",
    messages=[
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Summarize this transcript..."},
    ],
    max_tokens=1000,
    temperature=0.3,
)
print(response.choices[0].message.content)
print(f"Tokens used: {response.usage.total_tokens}")
