"""``netmon inventory``: validate, import and list the site inventory; what netmon found on it."""

from __future__ import annotations

import sys

from netmon.cli.common import (
    EXIT_BAD_INPUT,
    UserError,
    config_and_store,
    format_table,
    load_config,
    load_inventory,
    load_secrets,
    num,
    open_store,
)


def add(sub) -> None:
    inv = sub.add_parser("inventory", help="validate, import and list the site inventory")
    inv_sub = inv.add_subparsers(title="inventory commands", metavar="ACTION")
    v = inv_sub.add_parser("validate", help="check an inventory file; print FILE:LINE: problem for each bad line")
    v.add_argument("file")
    v.set_defaults(func=cmd_inventory_validate)
    i = inv_sub.add_parser("import", help="validate and load an inventory file into the database (all or nothing)")
    i.add_argument("file")
    i.add_argument(
        "--prune",
        action="store_true",
        help="also remove devices and sites the file does not declare, with their state and history",
    )
    i.set_defaults(func=cmd_inventory_import)
    lst = inv_sub.add_parser("list", help="print sites and devices")
    lst.set_defaults(func=cmd_inventory_list)
    hw = inv_sub.add_parser("hardware", help="print the hardware netmon found: chassis, modules, transceivers")
    hw.add_argument("site", nargs="?", help="only this site")
    hw.set_defaults(func=cmd_inventory_hardware)
    disc = inv_sub.add_parser("discover", help="walk LLDP/CDP neighbours from seed devices; propose missing devices")
    disc.add_argument("seeds", nargs="+", metavar="SEED", help="hostnames of inventory devices to start from")
    disc.add_argument("--depth", type=int, default=2, help="hops to follow from the seeds (default 2, at most 6)")
    disc.add_argument("--apply", action="store_true", help="add the proposed devices to the database")
    disc.set_defaults(func=cmd_inventory_discover)
    aps = inv_sub.add_parser("aps", help="print the access points the controllers report, with their sites")
    aps.add_argument("--unassigned", action="store_true", help="only APs no site rule matched")
    aps.set_defaults(func=cmd_inventory_aps)
    aps_map = inv_sub.add_parser(
        "ap-sites", help="load the explicit AP-to-site mapping (CSV: ap,site; AP name or MAC); all or nothing"
    )
    aps_map.add_argument("file")
    aps_map.add_argument("--check", action="store_true", help="only validate against the database's sites")
    aps_map.set_defaults(func=cmd_inventory_ap_sites)
    opt = inv_sub.add_parser("optics", help="print transceiver readings and how close each is to its thresholds")
    opt.set_defaults(func=cmd_inventory_optics)
    inv.set_defaults(func=lambda a: inv.print_help() or EXIT_BAD_INPUT)


def cmd_inventory_validate(args) -> int:
    cfg = load_config(args)
    inv = load_inventory(cfg, args.file)
    print(f"{args.file}: OK: {len(inv.sites)} sites, {len(inv.devices)} devices")
    return 0


def cmd_inventory_import(args) -> int:
    cfg = load_config(args)
    inv = load_inventory(cfg, args.file)
    store = open_store(cfg, create=True)
    counts = store.import_inventory(inv, prune=args.prune)
    print(f"imported {counts['sites']} sites and {counts['devices']} devices into {cfg.db}")
    if args.prune:
        print(f"removed {counts['removed_sites']} sites and {counts['removed_devices']} devices not in {args.file}")
    elif counts["kept_undeclared_devices"]:
        print(
            f"kept {counts['kept_undeclared_devices']} devices that {args.file} does not declare "
            "(--prune removes them and their history)"
        )
    return 0


def cmd_inventory_list(args) -> int:
    cfg, store = config_and_store(args)
    sites = store.sites()
    print(
        format_table(
            ["site", "kind", "address", "lat", "lon", "devices"],
            [[s["name"], s["kind"], s["address"], num(s["lat"]), num(s["lon"]), s["devices"]] for s in sites],
        )
    )
    print()
    devices = store.devices()
    print(
        format_table(
            ["device", "site", "role", "address", "port", "snmp", "ssh", "interval"],
            [
                [
                    d.hostname,
                    d.site,
                    d.role,
                    d.address,
                    d.port,
                    d.snmp_profile or "-",
                    d.ssh_profile or "-",
                    d.interval or cfg.interval,
                ]
                for d in devices
            ],
        )
    )
    return 0


def cmd_inventory_hardware(args) -> int:
    cfg, store = config_and_store(args)
    if args.site and args.site not in {s["name"] for s in store.sites()}:
        raise UserError(f"no site {args.site!r} in {cfg.db}")
    rows = [
        [h["site"], h["hostname"], h["class"], h["name"], h["model"], h["serial"], h["firmware"] or h["software"]]
        for h in store.hardware(args.site)
    ]
    print(format_table(["site", "device", "class", "name", "model", "serial", "firmware"], rows))
    return 0


def cmd_inventory_discover(args) -> int:
    from netmon import discover

    if not 1 <= args.depth <= 6:
        raise UserError("--depth must be 1 to 6")
    cfg = load_config(args)
    secrets = load_secrets(cfg)
    store = open_store(cfg)
    known = store.devices()
    names = {d.hostname.lower() for d in known}
    missing = [s for s in args.seeds if s.lower() not in names]
    if missing:
        raise UserError(f"not in the inventory: {', '.join(missing)}")
    found = discover.run(cfg, secrets, known, args.seeds, args.depth)
    print(file=sys.stderr)
    print(format_table(
        ["proposed device", "address", "site (seen from)", "snmp profile"],
        [[d.hostname, d.address, d.site, d.snmp_profile or "-"] for d in found.proposals],
    ))  # fmt: skip
    for name, reason in found.unreachable.items():
        print(f"netmon: {name}: not reachable over SNMP ({reason})", file=sys.stderr)
    if found.proposals and not args.apply:
        print("\n# for the inventory file (check site and role), or run again with --apply:")
        for d in found.proposals:
            print(f"  - {{hostname: {d.hostname}, address: {d.address}, site: {d.site}, role: {d.role}, "
                  f"snmp: {d.snmp_profile}}}")  # fmt: skip
    if args.apply and found.proposals:
        added = store.add_devices(found.proposals)
        print(f"added {added} devices to {cfg.db}")
    return 0


def cmd_inventory_aps(args) -> int:
    _cfg, store = config_and_store(args)
    rows = [
        [a["controller"], a["name"], a["mac"], a["model"], a["location"], a["status"], a["site"] or "-"]
        for a in store.access_points()
        if not args.unassigned or a["site"] is None
    ]
    print(format_table(["controller", "ap", "mac", "model", "location", "status", "site"], rows))
    return 0


def cmd_inventory_ap_sites(args) -> int:
    from inventory import ap_sites

    cfg, store = config_and_store(args)
    mapping = ap_sites.load(args.file, store.site_ids())
    if args.check:
        print(f"{args.file}: OK: {len(mapping)} access points mapped")
        return 0
    counts = store.import_ap_sites(mapping)
    print(f"imported {counts['mappings']} AP-to-site mappings into {cfg.db}; {counts['aps_placed']} known APs placed")
    return 0


def cmd_inventory_optics(args) -> int:
    _cfg, store = config_and_store(args)
    rows = []
    for o in store.optic_states():
        low = o["low_warning"]
        margin = "" if low is None else f"{o['value'] - low:+.2f}"
        rows.append(
            [
                o["hostname"],
                o["ifname"],
                o["lane"],
                o["kind"],
                f"{o['value']:g}",
                num(low),
                num(o["low_alarm"]),
                margin,
            ]
        )
    print(format_table(["device", "port", "lane", "sensor", "value", "low warn", "low alarm", "to warn"], rows))
    return 0
