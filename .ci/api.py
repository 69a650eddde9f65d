"""Reads rustdoc JSON of pop3-proto and checks the contract of issue 15."""
import json
import sys

IO = {
    "enqueue_input", "enqueue_buf", "enqueue_eof", "input_room", "next_event",
    "take_output", "poll_output", "output_len", "has_output", "is_closed",
    "connection_closed", "connection_lost", "tls_established", "awaiting_tls",
}

doc = json.load(open(sys.argv[1]))
index = doc["index"]
paths = doc["paths"]


def item(i):
    return index.get(str(i))


def public_path(i):
    p = paths.get(str(i))
    return "::".join(p["path"]) if p and p["crate_id"] == 0 else None


failures = []
machines = []
for key, p in paths.items():
    if p["crate_id"] != 0 or p["kind"] != "struct":
        continue
    name = p["path"][-1]
    full = "::".join(p["path"])
    it = item(key)
    if it is None:
        continue
    inner = it["inner"]["struct"]
    if name in ("Client", "Server"):
        traits, inherent = [], []
        for impl_id in inner["impls"]:
            impl = item(impl_id)["inner"]["impl"]
            if impl["trait"] is None:
                inherent += [item(m)["name"] for m in impl["items"]]
            else:
                tr = impl["trait"]["path"].split("::")[-1]
                if tr in ("Machine", "StartTls"):
                    methods = sorted(item(m)["name"] for m in impl["items"])
                    traits.append((tr, methods))
        machines.append((full, traits, inherent))
        if not any(t == "Machine" for t, _ in traits):
            failures.append(f"{full} does not implement Machine")
        own_io = sorted(set(inherent) & IO)
        if own_io:
            failures.append(f"{full} has IO methods of its own: {own_io}")
    if name.endswith("Config") or name.endswith("Options"):
        kind = inner["kind"]
        stripped = "plain" in kind and kind["plain"]["has_stripped_fields"]
        if "non_exhaustive" not in it["attrs"] and not stripped:
            failures.append(f"{full} can be built by a struct literal (not #[non_exhaustive])")
        else:
            print(f"config {full}: extensible")

for full, traits, inherent in sorted(machines):
    print(f"machine {full}:")
    for tr, methods in traits:
        print(f"  impl {tr}: {', '.join(methods)}")
    print(f"  own methods: {', '.join(sorted(inherent))}")

if failures:
    print("\nAPI check failed:")
    for f in failures:
        print("  " + f)
    sys.exit(1)
print("\nAPI check passed: every machine drives through Machine, every config is extensible")
