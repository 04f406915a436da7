"""A minimal OpenTelemetry collector for the e2e stage: OTLP over HTTP in, files out, and a check.

    otlp.py serve PORT DIR      answer every POST 200 and keep its body as DIR/NNNNN_<path>
    otlp.py trace DIR           exit 0 when one trace runs from the laptop host's HTTP handler
                                through the panel provider's `present-sized` to its `bus` span;
                                print that trace's spans either way

The span names are the host's (`call_http_incoming_handle`) and ours (`present-sized`, `bus`).
"""

import glob
import http.server
import itertools
import os
import sys


def serve(port, out):
    counter = itertools.count()
    os.makedirs(out, exist_ok=True)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            name = "%05d%s" % (next(counter), self.path.replace("/", "_"))
            with open(os.path.join(out, name + ".tmp"), "wb") as f:
                f.write(body)
            os.rename(os.path.join(out, name + ".tmp"), os.path.join(out, name))
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def spans(out):
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    for path in sorted(glob.glob(os.path.join(out, "*_v1_traces"))):
        req = ExportTraceServiceRequest()
        with open(path, "rb") as f:
            req.ParseFromString(f.read())
        for rs in req.resource_spans:
            service = next(
                (a.value.string_value for a in rs.resource.attributes if a.key == "service.name"),
                "?",
            )
            for ss in rs.scope_spans:
                for s in ss.spans:
                    yield s.trace_id.hex(), s.span_id.hex(), s.parent_span_id.hex(), service, s.name


def trace(out):
    by_trace = {}
    for t, sid, parent, service, name in spans(out):
        by_trace.setdefault(t, []).append((sid, parent, service, name))
    for t, ss in by_trace.items():
        names = {(service, name) for _, _, service, name in ss}
        ids = {sid for sid, _, _, _ in ss}
        handler = ("wasmcloud-host", "call_http_incoming_handle") in names
        present = [s for s in ss if s[2] == "oled-panel" and s[3] == "present-sized"]
        bus = [s for s in ss if s[2] == "oled-panel" and s[3] == "bus"]
        # present-sized hangs under a span of the host, bus under present-sized.
        if handler and present and bus and present[0][1] in ids and bus[0][1] == present[0][0]:
            print("trace %s:" % t)
            # Parents before their children, as a tree reads.
            children = {}
            for span in ss:
                children.setdefault(span[1] if span[1] in ids else "", []).append(span)

            def show(parent):
                for sid, p, service, name in children.get(parent, []):
                    print("  %s <- %s  %-16s %s" % (sid, p or "-" * 16, service, name))
                    show(sid)

            show("")
            return 0
    print("no trace from the HTTP handler to the panel's bus among %d traces" % len(by_trace))
    return 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(int(sys.argv[2]), sys.argv[3])
    elif sys.argv[1:2] == ["trace"]:
        sys.exit(trace(sys.argv[2]))
    else:
        sys.exit(__doc__)
