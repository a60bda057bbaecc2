#!/usr/bin/env python3
"""Listings near an address that fit a buyer's criteria, for pipelines/listings.yaml.

Offline on purpose: it reads a small sample catalogue below instead of a listings API, so
the example runs anywhere (`pipe run --mock`). It is a command stage's program: the address
comes as its argument, the whole request (budget, bedrooms) as JSON on stdin, and the
answer goes to stdout as JSON matching schemas/listings.schema.json. Errors go to stderr
with a non-zero exit, which `pipe` reports with the end of stderr.
"""
import json
import sys

CATALOGUE = [
    {"id": "L-1041", "street": "14 Harbour Row", "district": "Old Town", "price": 385000, "bedrooms": 2, "sqm": 71},
    {"id": "L-1187", "street": "3 Mill Lane", "district": "Old Town", "price": 455000, "bedrooms": 3, "sqm": 96},
    {"id": "L-1203", "street": "22 Quay Street", "district": "Harbourside", "price": 510000, "bedrooms": 3, "sqm": 104},
    {"id": "L-1290", "street": "8 Chapel Yard", "district": "Old Town", "price": 298000, "bedrooms": 1, "sqm": 48},
    {"id": "L-1322", "street": "61 Rope Walk", "district": "Harbourside", "price": 439000, "bedrooms": 3, "sqm": 88},
    {"id": "L-1365", "street": "5 Beacon Close", "district": "Northfield", "price": 349000, "bedrooms": 3, "sqm": 92},
]


def main() -> int:
    if len(sys.argv) != 2 or not sys.argv[1].strip():
        print("usage: fetch_listings.py ADDRESS (the request as JSON on stdin)", file=sys.stderr)
        return 2
    address = sys.argv[1]
    try:
        request = json.load(sys.stdin)
    except json.JSONDecodeError as error:
        print(f"the request on stdin is not JSON: {error}", file=sys.stderr)
        return 2
    district = request.get("district")
    matches = [
        listing
        for listing in CATALOGUE
        if listing["price"] <= request.get("max_price", 10**9)
        and listing["bedrooms"] >= request.get("min_bedrooms", 0)
        and (district is None or listing["district"] == district)
    ]
    matches.sort(key=lambda listing: listing["price"])
    json.dump({"near": address, "count": len(matches), "listings": matches}, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
