// The dashboard's few live parts, plain JavaScript: copy buttons, the CSV upload with its progress bar,
// and a batch's counters refreshed without a reload. Every request that changes something carries the
// page's CSRF token.
"use strict";
const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

document.addEventListener("click", (event) => {
  const button = event.target.closest("button.copy");
  if (!button) return;
  const text = document.getElementById(button.dataset.copy).textContent;
  const done = () => { button.textContent = "Copied"; setTimeout(() => { button.textContent = "Copy"; }, 1500); };
  if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done);
  else { const area = document.createElement("textarea"); area.value = text; document.body.appendChild(area); area.select(); document.execCommand("copy"); area.remove(); done(); }
});

const upload = document.getElementById("upload");
if (upload) {
  upload.addEventListener("submit", (event) => {
    event.preventDefault();
    const file = document.getElementById("csv").files[0];
    const result = document.getElementById("upload-result"), bar = document.getElementById("upload-progress");
    if (!file) { result.textContent = "Choose a CSV file first."; return; }
    const request = new XMLHttpRequest();
    request.open("POST", upload.dataset.action);
    request.setRequestHeader("Content-Type", "text/csv");
    request.setRequestHeader("X-CSRF-Token", csrf());
    request.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = Math.round(e.loaded * 100 / e.total); };
    request.onload = () => {
      let answer = {};
      try { answer = JSON.parse(request.responseText); } catch (_) {}
      if (request.status === 200) {
        bar.value = 100;
        result.className = "notice";
        result.textContent = `Uploaded: ${answer.accepted} added, ${answer.duplicates} duplicates, ${answer.suppressed} suppressed; ${answer.total} in the batch.`;
        setTimeout(() => location.reload(), 600);
      } else {
        const error = answer.error || {};
        result.className = "error";
        const message = error.message || request.statusText;
        // CSV errors name their line in the message already; other errors get their field in front.
        const field = error.field && !message.includes(error.field) ? error.field + ": " : "";
        result.textContent = `Not uploaded (${request.status}): ${field}${message}`;
      }
    };
    request.onerror = () => { result.className = "error"; result.textContent = "The upload did not reach the server; check the connection and try again."; };
    request.send(file);
  });
}

const counters = document.getElementById("counters");
if (counters && counters.dataset.live) {
  const finished = ["completed", "failed", "cancelled"];
  const refresh = async () => {
    try {
      const response = await fetch(counters.dataset.live, { headers: { Accept: "application/json" }, cache: "no-store" });
      if (!response.ok) return;
      const batch = await response.json();
      const status = document.getElementById("batch-status");
      status.textContent = batch.status;
      status.className = `status status-${batch.status}`;
      for (const counter of batch.counters) {
        const value = document.getElementById(`count-${counter.name}`), bar = document.getElementById(`bar-${counter.name}`);
        if (value) value.textContent = counter.value;
        if (bar) bar.style.width = `${counter.percent}%`;
      }
      // Delivery events keep arriving after the batch completes: keep refreshing a while longer.
      if (finished.includes(batch.status)) { counters.dataset.after = (Number(counters.dataset.after || 0) + 1).toString(); }
    } catch (_) { /* the next tick tries again */ }
    if (Number(counters.dataset.after || 0) < 60) setTimeout(refresh, 1000);
  };
  setTimeout(refresh, 1000);
}
