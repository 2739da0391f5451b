#!/usr/bin/env python3
"""bench/lib/results.py on canned input: statistics, rows, skips and the report (no benchmark runs)."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "..", "..", "bench", "lib", "results.py")
sys.path.insert(0, os.path.dirname(RESULTS))
import results  # noqa: E402


def read(path):
    with open(path) as f:
        return f.read()


def run(*args):
    subprocess.run([sys.executable, RESULTS, *args], check=True)


class Statistics(unittest.TestCase):
    def test_summary_of_odd_and_even_counts(self):
        s = results.summary([3, 1, 2])
        self.assertEqual((s["median"], s["min"], s["max"]), (2, 1, 3))
        self.assertEqual((s["q1"], s["q3"]), (1.5, 2.5))
        self.assertEqual(results.summary([4, 1])["median"], 2.5)
        self.assertEqual(results.summary([7])["q1"], 7)

    def test_behind_follows_the_metric_direction(self):
        self.assertTrue(results.behind({"ratio": 0.8, "better": "higher"}))
        self.assertFalse(results.behind({"ratio": 1.2, "better": "higher"}))
        self.assertTrue(results.behind({"ratio": 1.5, "better": "lower"}))
        self.assertFalse(results.behind({"ratio": None, "better": "lower"}))
        self.assertFalse(results.behind({"ratio": 1.01, "better": "lower"}))  # level: within 2 %
        self.assertFalse(results.behind({"ratio": 0.985, "better": "higher"}))
        self.assertFalse(results.behind({"ratio": 0.5, "better": "higher", "self_peer": True}))


class Report(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        d = self.dir.name
        self.a, self.b, self.c = (os.path.join(d, n + ".json") for n in "abc")
        run("row", self.a, "--case", "a", "--title", "Client", "--label", "64 MiB", "--metric", "MiB/s",
            "--better", "higher", "--dfd-name", "dfd get", "--dfd", "100 120 110",
            "--peer-name", "aria2c", "--peer", "200 220 210", "--goal-ratio-min", "1.25")
        run("row", self.a, "--case", "a", "--title", "Client", "--label", "RSS", "--metric", "MiB",
            "--better", "lower", "--dfd-name", "dfd get", "--dfd", "20 22",
            "--peer-name", "aria2c", "--peer", "40 44", "--goal-max", "64")
        run("row", self.b, "--case", "b", "--title", "Tokens", "--label", "16 connections",
            "--metric", "tokens/s", "--better", "higher", "--dfd-name", "info", "--dfd", "5000",
            "--peer-recorded", "70", "--peer-source", "recorded")
        run("row", self.b, "--case", "b", "--title", "Tokens", "--label", "two vs one",
            "--metric", "tokens/s", "--better", "higher", "--dfd-name", "two info servers", "--dfd", "90 110",
            "--peer-name", "one info server", "--peer", "200", "--self-peer")
        run("skip", self.c, "--case", "c", "--title", "Zones", "--reason", "no netns cluster")
        run("stamp", self.a, "--date", "2026-11-30 05:00 UTC", "--mode", "full", "--dfd", "abc123", "--load", "1.0")
        run("stamp", self.c, "--date", "2026-11-30 06:00 UTC", "--mode", "quick", "--dfd", "def456", "--load", "2.0")
        meta = os.path.join(d, "meta.json")
        with open(meta, "w") as f:
            json.dump({"schema": 1, "mode": "quick", "date": "2026-11-30 05:00 UTC", "notice": "A quick run.",
                       "machine": {"cpu": "cpu", "cores": 2, "memory": "23 GiB", "kernel": "Linux"},
                       "versions": {"dfd": "abc123", "aria2c": "aria2 1.36"}}, f)
        self.json, self.md = os.path.join(d, "out.json"), os.path.join(d, "out.md")
        run("report", "--meta", meta, "--json", self.json, "--md", self.md, self.a, self.b, self.c)
        self.doc = json.loads(read(self.json))
        self.text = read(self.md)

    def tearDown(self):
        self.dir.cleanup()

    def test_json_has_every_run_the_medians_and_ratios(self):
        rows = self.doc["cases"][0]["rows"]
        self.assertEqual(rows[0]["dfd"]["runs"], [100, 110, 120])
        self.assertAlmostEqual(rows[0]["ratio"], 110 / 210)
        self.assertFalse(rows[0]["goal_met"])
        self.assertTrue(rows[1]["goal_met"])
        self.assertAlmostEqual(rows[1]["ratio"], 21 / 42)
        tokens = self.doc["cases"][1]["rows"][0]
        self.assertFalse(tokens["peer"]["measured"])
        self.assertAlmostEqual(tokens["ratio"], 5000 / 70)
        self.assertEqual(self.doc["cases"][2]["status"], "skipped")
        self.assertEqual(self.doc["cases"][2]["rows"], [])

    def test_each_case_says_which_run_it_came_from(self):
        self.assertIn("_Run: 2026-11-30 05:00 UTC, full run, dfd abc123; load average at the case's end 1.0._", self.text)
        self.assertIn("come from more than one run", self.text)
        out = os.path.join(self.dir.name, "extracted.json")
        run("extract", self.json, "--case", "a", out)
        self.assertEqual(json.loads(read(out))["rows"][0]["dfd"]["median"], 110)
        missing = subprocess.run([sys.executable, RESULTS, "extract", self.json, "--case", "x", out])
        self.assertEqual(missing.returncode, 1)

    def test_markdown_says_where_dfd_is_behind_and_what_was_skipped(self):
        self.assertIn("**dfd is behind** aria2c in Client, 64 MiB: 110 against 210 MiB/s, 0.52× the peer's (higher is better)", self.text)
        self.assertNotIn("behind** aria2c in Client, RSS", self.text)
        self.assertIn("**Goal not met** in Client, 64 MiB", self.text)
        self.assertIn("Zones: skipped: no netns cluster", self.text)
        self.assertIn("a recorded figure, not measured in this run", self.text)
        self.assertIn("> A quick run.", self.text)
        self.assertIn("| aria2c | aria2 1.36 |", self.text)
        self.assertIn("100–120 (IQR 105–115, n=3)", self.text)
        self.assertIn("- two vs one: two info servers give 0.50× the tokens/s of one info server.", self.text)
        self.assertNotIn("behind** one info server", self.text)


if __name__ == "__main__":
    unittest.main()
