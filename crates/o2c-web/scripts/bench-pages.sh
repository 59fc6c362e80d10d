#!/usr/bin/env bash
# Page timings on the demo company: median and max of 20 requests per page (curl time_total).
set -euo pipefail
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/o2c}
DIR=$(mktemp -d /tmp/web-perf.XXXX); cd "$DIR"
$BIN demo > demo.txt 2>&1
PORT=18977; B=http://127.0.0.1:$PORT
$BIN serve --addr 127.0.0.1:$PORT > serve.log 2>&1 & SERVER=$!
trap 'kill $SERVER' EXIT
sleep 2
curl -s -c staff -o /dev/null -H "Origin: $B" -d 'email=admin@demo.o2c&password=o2c-demo-admin' $B/app/sign-in
curl -s -c cust -o /dev/null -H "Origin: $B" -d 'email=customer@demo.o2c&password=o2c-demo-customer' $B/portal/sign-in
q() { sqlite3 o2c.db "$1" 2>/dev/null || true; }
ORDER=$(q "SELECT id FROM orders ORDER BY received_at DESC LIMIT 1")
CUST=$(q "SELECT customer_id FROM users WHERE role='portal' LIMIT 1")
BIGCUST=$(q "SELECT customer_id FROM invoices GROUP BY customer_id ORDER BY COUNT(*) DESC LIMIT 1")
INV=$(q "SELECT id FROM invoices WHERE customer_id='$CUST' LIMIT 1")
NUM=$(q "SELECT number FROM invoices LIMIT 1 OFFSET 500")
PAY=$(q "SELECT id FROM payments LIMIT 1")
echo "orders: $(q 'SELECT COUNT(*) FROM orders'), invoices: $(q 'SELECT COUNT(*) FROM invoices'), events: $(q 'SELECT COUNT(*) FROM events')"
for p in /app /app/credit-holds /app/cash-exceptions /app/intake-exceptions /app/cases "/app/search?q=$NUM" "/app/search?q=gmbh" "/app/search?q=100.00" /app/orders/$ORDER /app/customers/$BIGCUST /app/invoices/$INV /app/payments/$PAY /app/users; do
  jar=staff; t=$(for i in $(seq 20); do curl -s -b $jar -o /dev/null -w "%{http_code} %{time_total}\n" "$B$p"; done | sort -k2 -n)
  echo "$p $(echo "$t" | awk 'NR==10{m=$2} {c=$1; x=$2} END{printf "status %s median %.1f ms max %.1f ms", c, m*1000, x*1000}')"
done
for p in /portal /portal/invoices/$INV /portal/orders/$(q "SELECT id FROM orders WHERE customer_id='$CUST' LIMIT 1") /portal/help; do
  t=$(for i in $(seq 20); do curl -s -b cust -o /dev/null -w "%{http_code} %{time_total}\n" "$B$p"; done | sort -k2 -n)
  echo "$p $(echo "$t" | awk 'NR==10{m=$2} {c=$1; x=$2} END{printf "status %s median %.1f ms max %.1f ms", c, m*1000, x*1000}')"
done
