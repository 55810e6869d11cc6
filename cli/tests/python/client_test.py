#!/usr/bin/env python3
"""Drives the running FDI Atlas services from Python, with a client generated
from proto/ by grpcio-tools (the reference protoc): the proof that another
stack can compile the contracts and call the services.

    python client_test.py --catalogue HOST:PORT --ingest HOST:PORT --analytics HOST:PORT \
        [--rows 300] [--batch-rows 100] [--load-id ID] [--proto DIR]

It resolves a pre-2025 province name, submits one event (twice: the second is
a duplicate), streams `--rows` new events to Hải Phòng over LoadEvents in
batches, checks the load's progress (GetBulkLoad) and every event (ListEvents),
then waits for analytics to fold them and checks that GetSummary's figures
grew by exactly the rows it sent (so it also runs against `fdi up`, whose
demo register is already there). Exits 0 when everything holds, 1 with a
message otherwise.
"""

import argparse
import importlib
import pathlib
import subprocess
import sys
import tempfile
import time
from decimal import Decimal

PROVINCE = "Hải Phòng"
YEAR = "2025"


class Failure(Exception):
    """A check that did not hold."""


def check(condition, message):
    if not condition:
        raise Failure(message)


def endpoint(value):
    """Accepts `host:port` or `http://host:port`."""
    return value.split("://", 1)[-1].rstrip("/")


def generate(proto_root, out_dir):
    """Generates the Python messages and stubs of every proto under proto_root with grpcio-tools."""
    files = sorted(str(p.relative_to(proto_root)) for p in proto_root.rglob("*.proto"))
    check(files, f"no .proto files under {proto_root}")
    command = [
        sys.executable, "-m", "grpc_tools.protoc", f"-I{proto_root}",
        f"--python_out={out_dir}", f"--grpc_python_out={out_dir}", *files,
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    check(result.returncode == 0, f"grpc_tools.protoc failed on {proto_root}:\n{result.stderr}")
    sys.path.insert(0, str(out_dir))


def money(m):
    return Decimal(m.units) + Decimal(m.nanos) / Decimal(10**9)


def amount_of(i):
    """The USD amount of bulk row i: whole dollars and cents, all different."""
    return Decimal(1_000_000 + 1_234 * i) + Decimal(i % 100) / 100


def main():
    here = pathlib.Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--catalogue", required=True)
    parser.add_argument("--ingest", required=True)
    parser.add_argument("--analytics", required=True)
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--batch-rows", type=int, default=100)
    parser.add_argument("--load-id", default=f"python-client-{int(time.time())}")
    parser.add_argument("--proto", default=str(here.parents[2] / "proto"))
    args = parser.parse_args()

    import grpc

    with tempfile.TemporaryDirectory(prefix="fdi-python-client-") as out:
        generate(pathlib.Path(args.proto).resolve(), out)
        common = importlib.import_module("fdi.common.v1.common_pb2")
        cat = importlib.import_module("fdi.catalogue.v1.catalogue_service_pb2")
        cat_grpc = importlib.import_module("fdi.catalogue.v1.catalogue_service_pb2_grpc")
        ing = importlib.import_module("fdi.ingest.v1.ingest_service_pb2")
        ing_grpc = importlib.import_module("fdi.ingest.v1.ingest_service_pb2_grpc")
        ana = importlib.import_module("fdi.analytics.v1.analytics_service_pb2")
        ana_grpc = importlib.import_module("fdi.analytics.v1.analytics_service_pb2_grpc")

        catalogue = cat_grpc.CatalogueServiceStub(grpc.insecure_channel(endpoint(args.catalogue)))
        ingest = ing_grpc.IngestServiceStub(grpc.insecure_channel(endpoint(args.ingest)))
        analytics = ana_grpc.AnalyticsServiceStub(grpc.insecure_channel(endpoint(args.analytics)))

        # Resolve: a pre-2025 province, in another spelling, belongs to today's Bắc Ninh.
        resolved = catalogue.Resolve(cat.ResolveRequest(query="Bac Giang province"), timeout=30)
        check(resolved.HasField("match"), f"Resolve found no match: {resolved}")
        check(resolved.match.resource == "provinces/bac-giang", f"Resolve matched {resolved.match.resource}")
        check(
            resolved.match.current_province == "provinces/bac-ninh",
            f"Resolve: current province {resolved.match.current_province!r}, expected provinces/bac-ninh",
        )
        print(f"Resolve: {resolved.match.resource} -> {resolved.match.current_province}")

        # SubmitEvent, then the same event again: a duplicate, same event.
        single = ing.EventInput(
            idempotency_key=f"{args.load_id}-single", kind="new", event_date="2025-03-01",
            project_ref=f"{args.load_id}-GCN-1", investor="Python Client Pte. Ltd.", investor_country="SG",
            province="Bắc Giang", sector="C", amount="246000000", currency="USD",
        )
        first = ingest.SubmitEvent(ing.SubmitEventRequest(event=single), timeout=30)
        check(first.outcome == ing.OUTCOME_ACCEPTED, f"SubmitEvent: {ing.Outcome.Name(first.outcome)}")
        check(first.event.current_province == "provinces/bac-ninh", f"SubmitEvent: {first.event}")
        check(money(first.event.amount_usd) == Decimal(246_000_000), f"SubmitEvent amount: {first.event.amount_usd}")
        again = ingest.SubmitEvent(ing.SubmitEventRequest(event=single), timeout=30)
        check(again.outcome == ing.OUTCOME_DUPLICATE, f"SubmitEvent again: {ing.Outcome.Name(again.outcome)}")
        check(again.event.name == first.event.name, f"duplicate names {again.event.name}, not {first.event.name}")
        print(f"SubmitEvent: {first.event.name} accepted, then duplicate")

        # GetSummary before the load, once analytics has folded everything up to the single event
        # (its sequence is above every event committed before it): the baseline the load adds to.
        request = ana.GetSummaryRequest(provinces=[PROVINCE], period=common.Period(shorthand=YEAR), currency_code="USD")

        def summary_as_of(sequence):
            deadline = time.monotonic() + 60
            while True:
                summary = analytics.GetSummary(request, timeout=30)
                if summary.as_of_sequence >= sequence:
                    return summary
                stuck = f"analytics stayed at sequence {summary.as_of_sequence} < {sequence}"
                check(time.monotonic() < deadline, stuck)
                time.sleep(0.1)

        def figures_of(summary):
            """(new projects, new capital by original currency, new capital in USD, total capital in USD)."""
            figures = {common.Figure.Name(f.figure): f for f in summary.figures}
            new_capital = figures["FIGURE_NEW_CAPITAL"]
            converted_code = new_capital.converted.currency_code
            check(converted_code in ("", "USD"), f"GetSummary converted to {converted_code}, not USD")
            return (
                figures["FIGURE_NEW_PROJECTS"].count,
                {m.currency_code: money(m) for m in new_capital.by_currency},
                money(new_capital.converted),
                money(figures["FIGURE_TOTAL_CAPITAL"].converted),
            )

        before = figures_of(summary_as_of(first.event.sequence))

        # LoadEvents: the rows in batches over one client-streaming/server-streaming call.
        def batches():
            for start in range(0, args.rows, args.batch_rows):
                rows = [
                    ing.EventInput(
                        idempotency_key=f"{args.load_id}-{i}", kind="new",
                        event_date=f"{YEAR}-{1 + i % 12:02d}-{1 + i % 28:02d}", project_ref=f"{args.load_id}-P{i}",
                        investor=f"Python Loader {i % 7} Co., Ltd", investor_country="JP", province=PROVINCE,
                        sector="C", amount=str(amount_of(i)), currency="USD",
                    )
                    for i in range(start, min(start + args.batch_rows, args.rows))
                ]
                yield ing.LoadEventsRequest(load_id=args.load_id, start_offset=start, rows=rows)

        acks = list(ingest.LoadEvents(batches(), timeout=120))
        expected_offsets = [min(s + args.batch_rows, args.rows) for s in range(0, args.rows, args.batch_rows)]
        check(
            [a.offset_reached for a in acks] == expected_offsets,
            f"LoadEvents acknowledged offsets {[a.offset_reached for a in acks]}, expected {expected_offsets}",
        )
        accepted = sum(a.accepted for a in acks)
        others = [a for a in acks if a.duplicates or a.held or a.rejected or a.issues]
        check(accepted == args.rows and not others, f"LoadEvents accepted {accepted} of {args.rows}: {others}")
        progress = ingest.GetBulkLoad(ing.GetBulkLoadRequest(name=f"bulkLoads/{args.load_id}"), timeout=30)
        check(
            (progress.offset_reached, progress.accepted) == (args.rows, args.rows),
            f"GetBulkLoad: {progress}",
        )
        print(f"LoadEvents: {args.rows} rows in {len(acks)} acknowledged batches; GetBulkLoad agrees")

        # ListEvents after the single event: every row is an event of Hải Phòng, once.
        events, token = [], ""
        while True:
            page = ingest.ListEvents(
                ing.ListEventsRequest(
                    province=PROVINCE, after_sequence=first.event.sequence, page_size=1000, page_token=token
                ),
                timeout=30,
            )
            events.extend(page.events)
            token = page.next_page_token
            if not token:
                break
        keys = sorted(e.idempotency_key for e in events if e.idempotency_key.startswith(f"{args.load_id}-"))
        check(
            keys == sorted(f"{args.load_id}-{i}" for i in range(args.rows)),
            f"ListEvents: {len(keys)} events of the load for {PROVINCE}, expected {args.rows}",
        )
        last_sequence = max(e.sequence for e in events)

        # GetSummary: once analytics has folded the last event, the figures grew by exactly the rows sent.
        summary = summary_as_of(last_sequence)
        projects, by_currency, converted, total = figures_of(summary)
        expected_capital = sum(amount_of(i) for i in range(args.rows))
        check(
            projects - before[0] == args.rows,
            f"GetSummary new_projects {projects} (before the load {before[0]}), expected {args.rows} more",
        )
        expected_by_currency = dict(before[1], USD=before[1].get("USD", Decimal(0)) + expected_capital)
        check(
            by_currency == expected_by_currency,
            f"GetSummary new_capital by currency {by_currency}, expected {expected_by_currency}",
        )
        check(
            converted - before[2] == expected_capital,
            f"GetSummary new_capital USD {converted} (before {before[2]}), expected {expected_capital} more",
        )
        check(
            total - before[3] == expected_capital,
            f"GetSummary total_capital USD {total} (before {before[3]}), expected {expected_capital} more",
        )
        print(
            f"GetSummary: {PROVINCE} {YEAR}: {args.rows} more new projects, USD {expected_capital} more "
            f"(as of sequence {summary.as_of_sequence})"
        )
    print("python client: all checks passed")


if __name__ == "__main__":
    try:
        main()
    except Failure as failure:
        print(f"FAIL: {failure}", file=sys.stderr)
        sys.exit(1)
    except ImportError as error:
        print(f"FAIL: {error}; run cli/test.sh, which installs grpcio-tools into .tools/venv", file=sys.stderr)
        sys.exit(1)
    except Exception as error:  # a gRPC error or anything unexpected: say what, fail
        print(f"FAIL: {type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(1)
