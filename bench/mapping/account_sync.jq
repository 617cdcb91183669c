# jq version of flow `account_sync` (src/flows.weft), for the differential test of the
# evaluator (tests/map.rs) and the benchmark kit's reference: `jq -c -f account_sync.jq`.
select(.headcount != 0)
| {
    AccountNumber:     .customer_id,
    Name:              .customer_name,
    BillingCountry:    (.country | ascii_upcase),
    Industry:          (if .sector == null then "Unknown" else .sector end),
    NumberOfEmployees: .headcount,
    AnnualRevenue:     .annual_revenue,
    BillingAddress:    "\(.address.street), \(.address.postcode) \(.address.city)",
    TotalOrderValue:   (reduce .orders[] as $o (0.0;
                          . + (reduce $o.lines[] as $l (0.0; . + $l.qty * $l.unit_price)))),
    OrderCount:        (.orders | length),
    VipTags:           [.tags[] | select(startswith("vip"))],
    CreatedDate:       (.created_at | fromdateiso8601 | strftime("%Y-%m-%d"))
  }
