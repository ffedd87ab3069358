// The reference's Node.js example, unchanged but for where BASE, the key and the file come from.
//   VOXPARSE_BASE=http://127.0.0.1:8000 VOXPARSE_API_KEY=vxp_live_... node examples/node_fetch.js call.mp3
const fs = require("fs");
const API_KEY = process.env.VOXPARSE_API_KEY || "YOUR_API_KEY";
const BASE = process.env.VOXPARSE_BASE || "https://api.voxparse.com";
const RECORDING = process.argv[2] || "recording.mp3";
const headers = { "X-API-Key": API_KEY };
async function transcribe(filePath) {
  // 1. Upload
  const form = new FormData();
  form.append("file", new Blob([fs.readFileSync(filePath)]));
  form.append("plan", "transcription-ai");
  const { job_id } = await fetch(`${BASE}/v1/transcribe`, {
    method: "POST", headers, body: form
  }).then(r => r.json());
  console.log(`Job: ${job_id}`);
  // 2. Poll
  let status;
  do {
    await new Promise(r => setTimeout(r, 5000));
    const job = await fetch(`${BASE}/v1/jobs/${job_id}`, { headers })
      .then(r => r.json());
    status = job.status;
    console.log(`Status: ${status}`);
  } while (!["completed","failed"].includes(status));
  // 3. Result
  if (status === "completed") {
    const result = await fetch(`${BASE}/v1/jobs/${job_id}/result`,
      { headers }).then(r => r.json());
    return result;
  }
}
transcribe(RECORDING).then(console.log);
