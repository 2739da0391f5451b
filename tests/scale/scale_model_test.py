#!/usr/bin/env python3
"""Unit test of bench/scale-model: a tiny deployment computed by hand, and the committed inputs.

  tests/scale/scale_model_test.py [REPO]
"""
import contextlib
import importlib.machinery
import importlib.util
import io
import json
import os
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True  # no __pycache__ beside bench/scale-model
REPO = sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
MODEL = os.path.join(REPO, "bench", "scale-model")
INPUTS = os.path.join(REPO, "bench", "scale-inputs.json")

loader = importlib.machinery.SourceFileLoader("scale_model", MODEL)
spec = importlib.util.spec_from_loader("scale_model", loader)
sm = importlib.util.module_from_spec(spec)
loader.exec_module(sm)

# Round numbers, so every figure below can be checked with pencil and paper.
COSTS = {
    "info_cpu_us_per_manifest_event": 1000, "info_cpu_us_per_manifest_hmac": 400,
    "info_cpu_ms_per_login": 10, "info_cpu_us_per_heartbeat": 100,
    "broker_cpu_us_per_delivery": 1000, "broker_quorum_extra_us_per_delivery": 500,
    "broker_cpu_us_per_heartbeat": 2000, "token_event_bytes_per_delivery": 500, "heartbeat_bytes": 300,
    "fs_cpu_us_per_token_received": 100, "fs_cpu_s_per_gib_plain": 0.5, "fs_cpu_s_per_gib_tls": 1.0,
    "client_cpu_s_per_gib": 2.0, "pg_commits_per_s": 1000, "pg_cpu_us_per_manifest": 100,
    "pg_cpu_us_per_login": 200, "pg_cpu_us_per_heartbeat": 50, "pg_cpu_us_per_heartbeat_batch100": 1000,
}
TINY = {
    "file_servers": 4, "zones": 2, "regions": 1, "downloads_per_day": 86400, "mean_file_gib": 1.0,
    "peak_factor": 2.0, "token_ttl_s": 3600, "heartbeat_interval_s": 1.0, "info_servers": 1,
    "broker_nodes": 1, "replicas": 2, "files_per_server": 10, "new_files_per_day": 0,
    "logins_per_download": 0.5, "client_mib_s": 1024.0, "chunk_bytes": 2**30, "tokens": "fanout",
    "heartbeats": "direct", "announcements": "changes", "republish_every": 5, "tls": True, "max_batch": 256, "confirm_ms": 0.0, "linger_ms": 0.0,
    "token_bytes_per_extra_token": 150, "quorum_replicas": 3, "info_cores": 1, "broker_cores": 1,
    "pg_cores": 1, "pg_commit_factor": 1.0, "fs_cores": 2, "fs_nic_gbit": 10.0, "broker_nic_gbit": 1.0,
}


def run(**changes):
    return sm.model(dict(TINY, **changes), COSTS)


class TinyDeployment(unittest.TestCase):
    """1 download/s on average, ×2 at the peak: 2 downloads/s of 1 GiB over 4 file servers."""

    def test_demand(self):
        d = run()["demand"]
        self.assertAlmostEqual(d["downloads_per_s_peak"], 2.0)
        self.assertAlmostEqual(d["download_seconds"], 1.0)  # 1 GiB at 1024 MiB/s
        self.assertEqual(d["tokens_per_download"], 1)
        self.assertAlmostEqual(d["manifests_per_s"], 2.0)
        self.assertAlmostEqual(d["logins_per_s"], 1.0)

    def test_fanout_tokens_reach_every_file_server(self):
        b = run()["broker"]
        self.assertAlmostEqual(b["tokens_per_event"], 1.0)  # no confirm latency: no batching
        self.assertAlmostEqual(b["token_deliveries_per_s"], 8.0)  # 2 tokens × 4 queues
        self.assertAlmostEqual(b["heartbeat_deliveries_per_s"], 4.0)  # 4 servers / 1 s × 1 info
        self.assertAlmostEqual(b["deliveries_per_s"], 12.0)
        self.assertAlmostEqual(b["published_per_s"], 6.0)  # 2 token events + 4 heartbeats
        self.assertFalse(b["quorum_queues"])  # one node: classic queues
        self.assertAlmostEqual(b["cores_needed_per_region"], (8 * 1000 + 4 * 2000) / 1e6)  # tokens, heartbeats
        self.assertAlmostEqual(b["bytes_per_s_per_region"], 8 * 500 + 4 * 300)
        self.assertAlmostEqual(b["restart_storm_events_per_region"], 40)  # 4 servers × 10 files × 1 info

    def test_routed_and_hmac_tokens(self):
        self.assertAlmostEqual(run(tokens="routed")["broker"]["token_deliveries_per_s"], 4.0)  # 2 × 2 locations
        h = run(tokens="hmac")
        self.assertEqual(h["broker"]["token_deliveries_per_s"], 0)
        self.assertAlmostEqual(h["info"]["cores_needed_each"], 2 * 400e-6 + 1 * 10e-3 + 4 * 100e-6)
        self.assertAlmostEqual(h["postgres"]["write_tx_per_s"], 0 + 1 * 2 + 4)

    def test_group_commit_batches_tokens(self):
        # tokens per event = tokens/s per info server × (confirm + linger): 2/s × 0.5 s = 1,
        # and with 4 tokens/s (2 downloads/s on average, ×2 at the peak) 2 tokens per event
        self.assertAlmostEqual(run(confirm_ms=400.0, linger_ms=100.0)["broker"]["tokens_per_event"], 1.0)
        b = run(confirm_ms=400.0, linger_ms=100.0, downloads_per_day=4 * 86400 // 2)["broker"]
        self.assertAlmostEqual(b["tokens_per_event"], 2.0)
        self.assertAlmostEqual(b["token_deliveries_per_s"], 4 / 2 * 4)

    def test_info_postgres_fileserver(self):
        r = run()
        self.assertAlmostEqual(r["info"]["cores_needed_each"], 2 * 1000e-6 + 1 * 10e-3 + 4 * 100e-6)
        self.assertAlmostEqual(r["postgres"]["write_tx_per_s"], 2 + 2 + 4)  # tokens, login ×2, heartbeats
        self.assertAlmostEqual(r["postgres"]["cores_needed"], (2 * 100 + 1 * 200 + 4 * 50) / 1e6)
        self.assertAlmostEqual(r["postgres"]["live_download_tokens"], 1 * 3600)  # avg tokens/s × TTL
        f = r["fileserver"]
        self.assertAlmostEqual(f["bytes_per_s_each"], 2 * 2**30 / 4)
        self.assertAlmostEqual(f["cores_needed_each"], 0.5 * 1.0 + 2 * 100e-6)  # TLS 1 s/GiB + tokens
        self.assertAlmostEqual(run(tls=False)["fileserver"]["cores_needed_each"], 0.5 * 0.5 + 2 * 100e-6)

    def test_heartbeats_aggregated_per_zone(self):
        r = run(heartbeats="zone", info_servers=2)
        self.assertAlmostEqual(r["broker"]["heartbeat_deliveries_per_s"], 4 + 2)  # servers + 2 zone batches
        self.assertAlmostEqual(r["postgres"]["write_tx_per_s"], 2 + 2 + 2)  # one upsert per zone
        d = run(info_servers=2)  # direct: each of 2 info servers gets and upserts every heartbeat,
        self.assertAlmostEqual(d["broker"]["heartbeat_deliveries_per_s"], 8)  # one row changes
        self.assertAlmostEqual(d["postgres"]["heartbeat_statements_per_s"], 8)
        self.assertAlmostEqual(d["postgres"]["heartbeat_rows_per_s"], 4)
        self.assertAlmostEqual(d["postgres"]["write_tx_per_s"], 2 + 2 + 4)
        self.assertAlmostEqual(d["postgres"]["cores_needed"], (2 * 100 + 1 * 200 + 8 * 50) / 1e6)
        # broker: 8 token deliveries, 4 heartbeats published (+ first delivery), 4 more deliveries
        self.assertAlmostEqual(d["broker"]["cores_needed_per_region"], (8 * 1000 + 4 * 2000 + 4 * 1000) / 1e6)
        self.assertAlmostEqual(r["broker"]["cores_needed_per_region"], (8 * 1000 + 6 * 2000) / 1e6)

    def test_quorum_replication_and_regions(self):
        r = run(broker_nodes=3)  # quorum queues: 500 µs more per delivery, bytes to 3 replicas
        self.assertTrue(r["broker"]["quorum_queues"])
        self.assertAlmostEqual(r["broker"]["cores_needed_per_region"], (8 * 1000 + 4 * 2000 + 12 * 500) / 1e6)
        self.assertAlmostEqual(r["broker"]["bytes_per_s_per_region"], (8 * 500 + 4 * 300) * 3)
        g = run(regions=2)  # 2 file servers per region: a region's tokens reach 2 queues
        self.assertAlmostEqual(g["broker"]["token_deliveries_per_s"], 2 * 2)
        self.assertAlmostEqual(g["broker"]["cores_needed_per_region"], (4 * 1000 + 4 * 2000) / 1e6 / 2)

    def test_periodic_reannouncements(self):
        # 4 servers × 10 files every 5 heartbeats of 1 s: 8 file.available/s, each to 2 info
        # servers; one 1 GiB chunk per file: 300 (envelope) + 200 + 67 bytes each
        r = run(announcements="periodic", info_servers=2)
        b = r["broker"]
        self.assertAlmostEqual(b["file_available_published_per_s"], 8)
        self.assertAlmostEqual(b["file_available_deliveries_per_s"], 16)
        self.assertEqual(b["file_available_bytes_each"], 567)
        self.assertAlmostEqual(b["bytes_per_s_per_region"], 8 * 500 + 8 * 300 + 16 * 567)
        self.assertAlmostEqual(r["postgres"]["write_tx_per_s"], 2 + 2 + 4 + 16)  # every info server writes
        with self.assertRaises(SystemExit):
            run(announcements="sometimes")

    def test_token_renewal_for_long_downloads(self):
        d = run(client_mib_s=1.0, token_ttl_s=300)["demand"]  # 1024 s download, 300 s tokens
        self.assertEqual(d["tokens_per_download"], 4)
        self.assertAlmostEqual(d["manifests_per_s"], 8.0)

    def test_first_limit(self):
        r = run()
        # file-server network: 0.5 GiB/s = 4.295 Gbit/s of 10; file-server CPU 0.5002 of 2 cores
        self.assertEqual(r["first_limit"]["component"], "file-server network")
        self.assertAlmostEqual(r["limits"]["file-server network"], 0.5 * 2**30 * 8 / 1e9 / 10)
        self.assertAlmostEqual(r["limits"]["PostgreSQL commits"], 8 / 1000)
        with self.assertRaises(SystemExit):
            run(tokens="bogus")


class CommittedInputs(unittest.TestCase):
    def test_every_scenario_runs(self):
        inputs, costs, _ = sm.load(INPUTS, None)
        self.assertEqual(set(costs), set(COSTS))  # the test's cost table covers every cost
        for name in inputs["scenarios"]:
            r = sm.model(sm.params_for(inputs, name, []), costs)
            self.assertGreater(r["first_limit"]["utilisation"], 0, name)
        # the case: 10,000 file servers and a million downloads a day
        today = sm.model(sm.params_for(inputs, "10k-today", []), costs)
        design = sm.model(sm.params_for(inputs, "10k-design", []), costs)
        self.assertEqual(today["broker"]["token_deliveries_per_s"],
                         today["demand"]["manifests_per_s"] / today["broker"]["tokens_per_event"] * 10000)
        self.assertEqual(design["broker"]["token_deliveries_per_s"], 0)
        self.assertLess(design["first_limit"]["utilisation"], today["first_limit"]["utilisation"])

    def test_measured_file_overrides_and_cli(self):
        with tempfile.TemporaryDirectory() as d:
            m = os.path.join(d, "measured.json")
            with open(m, "w") as f:
                json.dump({"serve": {"tls": {"dfd_cpu_s_per_gib": 7.5}}}, f)
            _, costs, sources = sm.load(INPUTS, m)
            self.assertEqual(costs["fs_cpu_s_per_gib_tls"], 7.5)
            self.assertIn("serve.tls.dfd_cpu_s_per_gib", sources["fs_cpu_s_per_gib_tls"])
            # a cost with two sources takes the first one the measured file has
            with open(m, "w") as f:
                json.dump({"broker": {"serial": {"fileserver_cpu_us_per_token_received": 111}}}, f)
            self.assertEqual(sm.load(INPUTS, m)[1]["info_cpu_us_per_heartbeat"], 111)
            with open(m, "w") as f:
                json.dump({"broker": {"serial": {"fileserver_cpu_us_per_token_received": 111},
                                      "heartbeat_load": {"info_cpu_us_per_heartbeat": 222}},
                           "serve": {"tls": {"dfd_cpu_s_per_gib": 7.5}}}, f)
            self.assertEqual(sm.load(INPUTS, m)[1]["info_cpu_us_per_heartbeat"], 222)
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                self.assertEqual(sm.main(["--inputs", INPUTS, "--measured", m, "--json",
                                          "--scenario", "10k-design", "--set", "file_servers=20000"]), 0)
            res = json.loads(out.getvalue())
            self.assertEqual(res["scenarios"]["10k-design"]["params"]["file_servers"], 20000)
            with self.assertRaises(SystemExit):
                sm.main(["--inputs", INPUTS, "--scenario", "10k-design", "--set", "no_such=1"])
            br = os.path.join(d, "results.json")  # bench/run's report, printed beside the model
            with open(br, "w") as f:
                json.dump({"cases": [{"id": "token-issuance", "title": "Token issuance", "status": "ok",
                                      "rows": [{"label": "16 connections", "metric": "tokens/s",
                                                "dfd": {"median": 7000.0}, "peer": {"name": "python", "median": 70.0}}]},
                                     {"id": "client-vs-aria2c", "status": "ok", "rows": []}]}, f)
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                sm.main(["--inputs", INPUTS, "--bench-results", br, "--scenario", "one-box"])
            self.assertIn("Token issuance: 16 connections: 7000 tokens/s (peer python: 70.00)", out.getvalue())
            copy = os.path.join(d, "inputs.json")
            with open(INPUTS) as src, open(copy, "w") as dst:
                dst.write(src.read())
            with contextlib.redirect_stdout(io.StringIO()):
                self.assertEqual(sm.main(["--inputs", copy, "--measured", m, "--write-costs"]), 0)
            with open(copy) as f:
                written = json.load(f)["costs"]["fs_cpu_s_per_gib_tls"]
            self.assertEqual(written["value"], 7.5)
            self.assertIn("serve.tls.dfd_cpu_s_per_gib", written["source"])


if __name__ == "__main__":
    unittest.main(verbosity=1)
