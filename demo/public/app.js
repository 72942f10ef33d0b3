fetch("/api/health")
  .then((r) => r.json())
  .then((j) => { document.getElementById("health").textContent = j.message; })
  .catch((e) => { document.getElementById("health").textContent = "unreachable: " + e; });
