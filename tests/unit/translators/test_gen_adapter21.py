#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Tests of tools/gen-adapter21.py, the generator of the 2.1 <-> 2.0.1 adapter
tables: a change to a .def file reaches the tables with the right rule, and
what no rule covers (or a rule that no longer applies) stops the build. The
adapter's behaviour on real payloads is tested by test_v21_v201.c.
"""

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
TOOL = os.path.join(ROOT, "tools", "gen-adapter21.py")
_spec = importlib.util.spec_from_file_location("gen_adapter21", TOOL)
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def rules_of(g, direction, table):
    """{field: [op, ...]} of one generated table ({} when it has none)."""
    out = {}
    for e in g.tables.get((direction, table)) or []:
        out.setdefault(e["name"], []).append(e)
    return out


class Sources:
    """A copy of schemas/src and the rules file that a test may edit."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="gen-adapter21-")
        for f in ("ocpp201.def", "ocpp21.def"):
            shutil.copy(os.path.join(gen.SRC_DIR, f), self.dir)
        self.rules = os.path.join(self.dir, "v21_adapt.rules")
        shutil.copy(gen.RULES, self.rules)

    def add_field(self, version, type_name, line):
        """Adds @line as the first field of object type @type_name in @version's .def."""
        path = os.path.join(self.dir, "ocpp21.def" if version == "2.1" else "ocpp201.def")
        text = read(path)
        header = re.search(r"^type %s( open)? \{\n" % type_name, text, re.M)
        assert header, type_name
        text = text[:header.end()] + "  " + line + "\n" + text[header.end():]
        write(path, text)

    def add_enum_value(self, version, enum, value):
        path = os.path.join(self.dir, "ocpp21.def" if version == "2.1" else "ocpp201.def")
        text = read(path)
        text, n = re.subn(r"^(enum %s:)" % enum, r"\1 %s" % value, text, flags=re.M)
        assert n == 1, enum
        write(path, text)

    def add_rule(self, line):
        with open(self.rules, "a", encoding="utf-8") as f:
            f.write(line + "\n")

    def build(self):
        return gen.build(self.rules, self.dir)

    def close(self):
        shutil.rmtree(self.dir)


class GeneratedTables(unittest.TestCase):
    def setUp(self):
        self.src = Sources()

    def tearDown(self):
        self.src.close()

    def test_the_sources_give_the_known_rules(self):
        g = gen.build()
        te = rules_of(g, "down", "TransactionEventRequest")
        self.assertEqual([e["op"] for e in te["costDetails"]], ["DROP"])
        self.assertEqual(te["transactionInfo"][0]["flags"], ["REQ"])
        self.assertEqual(te["meterValue"][0]["flags"], ["LENIENT"])
        reason = te["triggerReason"][0]
        self.assertIn(("LimitSet", "ChargingRateChanged"), reason["map"])
        self.assertNotIn("CostLimitReached", reason["only"])
        tok = rules_of(g, "down", "IdTokenType")
        self.assertEqual((tok["idToken"][0]["op"], tok["idToken"][0]["hi"]), ("MAXLEN", 36))
        self.assertEqual(tok["type"][0]["fallback"], "Central")
        # a 2.0.1 period has one limit: fold the 2.1 per-phase ones first
        sched = rules_of(g, "down", "ChargingScheduleType")
        self.assertEqual([e["op"] for e in sched["chargingSchedulePeriod"]], ["PHASES", "SUB"])
        mon = rules_of(g, "up", "VariableMonitoringType")
        self.assertEqual(mon["eventNotificationType"][0]["dflt"], "CustomMonitor")
        self.assertEqual(rules_of(g, "up", "EVSEType")["id"][0]["lo"], 0)

    def test_a_new_21_field_is_dropped_for_201_wherever_its_type_is_used(self):
        before = self.src.build()
        self.assertEqual(rules_of(before, "down", "EVSEType"), {})
        self.assertNotIn("evse", rules_of(before, "down", "TransactionEventRequest"))
        self.src.add_field("2.1", "EVSEType", "phaseHint?: integer")
        g = self.src.build()
        self.assertEqual([e["op"] for e in rules_of(g, "down", "EVSEType")["phaseHint"]], ["DROP"])
        evse = rules_of(g, "down", "TransactionEventRequest")["evse"]
        self.assertEqual((evse[0]["op"], evse[0]["sub"]), ("SUB", "EVSEType"))
        self.assertIn(("ChangeAvailability", "ChangeAvailabilityRequest", "ChangeAvailabilityResponse"),
                      g.msgs["down"])
        # nothing to do the other way: 2.1 accepts a 2.0.1 EVSE as it was
        self.assertNotIn("phaseHint", rules_of(g, "up", "EVSEType"))

    def test_a_longer_21_string_is_refused_or_cut(self):
        self.src.add_field("2.1", "EVSEType", "label?: string<=100")
        self.src.add_field("2.0.1", "EVSEType", "label?: string<=50")
        g = self.src.build()
        rule = rules_of(g, "down", "EVSEType")["label"][0]
        self.assertEqual((rule["op"], rule["hi"]), ("MAXLEN", 50))
        self.assertNotIn("label", rules_of(g, "up", "EVSEType"))
        self.src.add_rule("trunc EVSEType.label")
        rule = rules_of(self.src.build(), "down", "EVSEType")["label"][0]
        self.assertEqual((rule["op"], rule["hi"]), ("TRUNC", 50))

    def test_a_new_21_enum_value_is_refused_unless_mapped(self):
        self.src.add_enum_value("2.1", "ResetEnumType", "Gentle")
        g = self.src.build()
        rule = rules_of(g, "down", "ResetRequest")["type"][0]
        self.assertNotIn("Gentle", rule["only"])
        self.assertIsNone(rule["fallback"])
        self.assertNotIn("Gentle", dict(rule["map"]))
        self.src.add_rule("map down ResetEnumType: Gentle=OnIdle")
        rule = rules_of(self.src.build(), "down", "ResetRequest")["type"][0]
        self.assertEqual(dict(rule["map"])["Gentle"], "OnIdle")

    def test_bounds_21_adds_are_checked_going_up(self):
        self.src.add_field("2.1", "EVSEType", "slot?: integer>=1<=8")
        self.src.add_field("2.0.1", "EVSEType", "slot?: integer")
        rule = rules_of(self.src.build(), "up", "EVSEType")["slot"][0]
        self.assertEqual((rule["op"], rule["lo"], rule["hi"]), ("RANGE", 1, 8))

    def test_a_21_number_is_rounded_before_201_bounds_check_it(self):
        self.src.add_field("2.1", "EVSEType", "amps?: number")
        self.src.add_field("2.0.1", "EVSEType", "amps?: integer>=0")
        rules = rules_of(self.src.build(), "down", "EVSEType")["amps"]
        self.assertEqual([(e["op"], e.get("lo")) for e in rules], [("ROUND", None), ("RANGE", 0)])

    def test_a_field_only_the_target_requires_needs_a_default(self):
        self.src.add_field("2.1", "EVSEType", "mode: string<=20")
        with self.assertRaisesRegex(gen.GenError, r"up EVSEType\.mode: required by the target"):
            self.src.build()
        self.src.add_rule("default up EVSEType.mode Normal")
        rule = rules_of(self.src.build(), "up", "EVSEType")["mode"][0]
        self.assertEqual((rule["op"], rule["dflt"]), ("DEFAULT", "Normal"))

    def test_a_field_201_requires_and_21_may_omit_is_checked(self):
        self.src.add_field("2.1", "EVSEType", "zone?: string<=20")
        self.src.add_field("2.0.1", "EVSEType", "zone: string<=20")
        rule = rules_of(self.src.build(), "down", "EVSEType")["zone"]
        self.assertEqual([e["op"] for e in rule], ["REQUIRE"])

    def test_a_change_no_rule_covers_stops_the_build(self):
        self.src.add_field("2.1", "EVSEType", "volts?: number")
        self.src.add_field("2.0.1", "EVSEType", "volts?: string")
        with self.assertRaisesRegex(gen.GenError, r"EVSEType\.volts: number in the source, string"):
            self.src.build()

    def test_a_rule_that_no_longer_applies_stops_the_build(self):
        self.src.add_rule("lenient EVSEType.nothing")
        with self.assertRaisesRegex(gen.GenError, r"lenient EVSEType\.nothing"):
            self.src.build()

    def test_the_c_file_is_written_only_when_it_changes(self):
        out = os.path.join(self.src.dir, "tables.c")
        cmd = [sys.executable, TOOL, "--src", self.src.dir, "--rules", self.src.rules, out]
        subprocess.run(cmd, check=True)
        text = read(out)
        self.assertIn("const struct tr21_msg ogw_tr21_dn_msgs[]", text)
        self.assertIn('{ .name = "costDetails", .op = OP_DROP },', text)
        os.utime(out, (1, 1))
        subprocess.run(cmd, check=True)
        self.assertEqual(os.stat(out).st_mtime, 1)
        self.src.add_rule("default up EVSEType.nothing x")
        r = subprocess.run(cmd, capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("default up EVSEType.nothing", r.stderr)


if __name__ == "__main__":
    unittest.main()
