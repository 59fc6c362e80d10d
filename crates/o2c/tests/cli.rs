//! The command line as a user runs it: the real binary on a fresh SQLite file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("o2c-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    fn file(&self, name: &str, content: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, content).unwrap();
        p
    }
    fn o2c(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_o2c"))
            .args(args)
            .env(
                "O2C_DATABASE_URL",
                format!("sqlite://{}", self.0.join("o2c.db").display()),
            )
            .current_dir(&self.0)
            .output()
            .unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

fn arg(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn fx_import_takes_every_row_or_none_and_names_the_bad_line() {
    let s = Scratch::new("fx");
    let bad = s.file(
        "bad.csv",
        "date,currency,rate\n2026-11-20,USD,1.0823\n2026-11-20,XYZ,1.5\n",
    );
    let out = s.o2c(&["fx", "import", arg(&bad)]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("line 3, column currency"), "{err}");
    let out = s.o2c(&["fx", "list", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "[]", "nothing was imported");

    let ecb = s.file(
        "eurofxref.csv",
        "Date, USD, JPY, GBP, \n20 November 2026, 1.0823, 162.45, 0.8561, \n",
    );
    let out = s.o2c(&["fx", "import", arg(&ecb)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("imported 3 rate(s) for 1 day(s)"),
        "{}",
        text(&out.stdout)
    );
    let out = s.o2c(&["fx", "list", "--currency", "JPY", "--json"]);
    let rates: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rates[0]["rate"], "162.45");
    assert_eq!(rates[0]["date"], "2026-11-20");
    assert_eq!(rates[0]["base"], "EUR");
}

fn fixture(name: &str) -> String {
    format!(
        "{}/../o2c-bank/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn statements_import_once_from_camt_and_from_csv_with_a_saved_mapping() {
    let s = Scratch::new("statement");
    // A dry run prints the parsed statement and writes nothing.
    let out = s.o2c(&[
        "import",
        "statement",
        &fixture("camt053_v8_batch.xml"),
        "--dry-run",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let parsed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(parsed[0]["format"], "camt053", "{parsed:#}");
    assert_eq!(
        parsed[0]["entries"][0]["transactions"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let out = s.o2c(&["cash", "exceptions", "--json"]);
    assert_eq!(text(&out.stdout).trim(), "[]", "the dry run wrote nothing");

    let out = s.o2c(&["import", "statement", &fixture("camt053_v8_batch.xml")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let first = text(&out.stdout);
    assert!(first.contains("incoming"), "{first}");
    let out = s.o2c(&["import", "statement", &fixture("camt053_v8_batch.xml")]);
    assert!(
        text(&out.stdout).contains("already imported, nothing changed"),
        "{}",
        text(&out.stdout)
    );

    // CSV needs the mapping first, and says so.
    let out = s.o2c(&["import", "statement", &fixture("csv_bank.csv")]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("mapping"),
        "{}",
        text(&out.stderr)
    );
    let out = s.o2c(&["cash", "csv-mapping", &fixture("csv_mapping.json")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = s.o2c(&["import", "statement", &fixture("csv_bank.csv"), "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["import"]["statements"][0]["format"], "CSV",
        "{report:#}"
    );
    assert_eq!(
        report["import"]["new_lines"], 1,
        "the incoming line; the fee is outgoing"
    );

    // A malformed statement is refused whole, naming the line.
    let out = s.o2c(&[
        "import",
        "statement",
        &fixture("mt940_malformed_amount.sta"),
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("line 14"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains("nothing was written"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn orders_import_parks_what_it_cannot_map_and_refuses_a_bad_file_naming_the_line() {
    let s = Scratch::new("orders");
    let bad = s.file(
        "bad.csv",
        "po_number,customer_id,sku,quantity\nA-1,cus_x,CHAIR-1,2\nA-1,cus_x,CHAIR-1,zwei\n",
    );
    let out = s.o2c(&["import", "orders", arg(&bad)]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("line 3, column quantity"), "{err}");
    assert!(err.contains("nothing was ordered"), "{err}");

    let good = s.file(
        "good.csv",
        "po_number,customer_id,sku,quantity\nA-1,cus_unknown,CHAIR-1,2\n",
    );
    let out = s.o2c(&["import", "orders", arg(&good)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(said.contains("csv document idoc_"), "{said}");
    assert!(said.contains("[unknown-customer]"), "{said}");
    assert!(said.contains("exceptions queue"), "{said}");

    let x12 = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../o2c-http/tests/fixtures/intake/850-acme-two-orders.x12"
    );
    let out = s.o2c(&["import", "orders", x12, "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (doc["channel"].as_str(), doc["status"].as_str()),
        (Some("x12"), Some("exception"))
    );
}

fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)))
}

#[test]
fn stock_receipts_adjustments_and_pick_lists_from_the_command_line() {
    let s = Scratch::new("stock");
    let out = s.o2c(&[
        "demo",
        "--customers",
        "5",
        "--products",
        "10",
        "--orders",
        "20",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let levels = json(&s.o2c(&["stock", "--warehouse", "MAIN", "--json"]));
    let first = &levels[0];
    let sku = first["sku"].as_str().unwrap().to_string();
    let on_hand = first["on_hand"].as_i64().unwrap();

    let bad = s.file(
        "bad.csv",
        &format!("sku,warehouse,quantity\n{sku},MAIN,5\nNOPE,MAIN,1\n{sku},MAIN,zero\n"),
    );
    let out = s.o2c(&["import", "stock", arg(&bad)]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("line 3: no product with SKU `NOPE`")
            && err.contains("line 4: column quantity"),
        "{err}"
    );
    let level = |s: &Scratch| {
        json(&s.o2c(&["stock", "--sku", &sku, "--warehouse", "MAIN", "--json"]))[0].clone()
    };
    assert_eq!(
        level(&s)["on_hand"].as_i64(),
        Some(on_hand),
        "nothing was received"
    );

    let good = s.file(
        "good.csv",
        &format!("sku,warehouse,quantity,reference\n{sku},MAIN,5,DN-77\n"),
    );
    let summary = json(&s.o2c(&["import", "stock", arg(&good), "--json"]));
    assert_eq!(summary["quantity"], 5);
    assert_eq!(level(&s)["on_hand"].as_i64(), Some(on_hand + 5));

    let adjusted = json(&s.o2c(&[
        "stock",
        "adjust",
        "--sku",
        &sku,
        "--warehouse",
        "MAIN",
        "--quantity",
        "-1",
        "--reason",
        "damaged",
        "--json",
    ]));
    assert_eq!(adjusted["on_hand"].as_i64(), Some(on_hand + 4));
    let journal = json(&s.o2c(&[
        "stock",
        "movements",
        "--sku",
        &sku,
        "--limit",
        "2",
        "--json",
    ]));
    assert_eq!(
        (journal[0]["kind"].as_str(), journal[0]["quantity"].as_i64()),
        (Some("adjustment"), Some(-1))
    );
    assert_eq!(
        (
            journal[1]["kind"].as_str(),
            journal[1]["document_id"].as_str()
        ),
        (Some("receipt"), Some("DN-77"))
    );
    assert!(journal[0]["actor"].as_str().unwrap().starts_with("cli:"));

    // A pick list takes whatever the demo left planned; then there is nothing left to pick.
    let out = s.o2c(&["picklist", "create", "--warehouse", "MAIN", "--json"]);
    if out.status.success() {
        let list = json(&out);
        assert!(!list["shipments"].as_array().unwrap().is_empty());
        let again = json(&s.o2c(&["picklist", "show", list["id"].as_str().unwrap(), "--json"]));
        assert_eq!(again["lines"], list["lines"]);
    }
    let out = s.o2c(&["picklist", "create", "--warehouse", "MAIN"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no planned shipment at MAIN waits for a pick list"),
        "{}",
        text(&out.stderr)
    );
    let docs = json(&s.o2c(&["edi", "list", "--json"]));
    assert!(
        docs.as_array().unwrap().is_empty(),
        "the demo has no X12 customers"
    );
}

#[test]
fn an_order_email_without_an_order_is_refused_and_nothing_is_ordered() {
    let s = Scratch::new("eml");
    let eml = s.file(
        "hello.eml",
        "Message-ID: <hello@acme.example>\r\nFrom: someone@acme.example\r\nSubject: hi\r\n\r\nJust saying hello.\r\n",
    );
    let out = s.o2c(&["import", "eml", arg(&eml)]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("no order in the message") && err.contains("kept as document"),
        "{err}"
    );
    let not_mail = s.file("x.eml", "");
    let out = s.o2c(&["import", "eml", arg(&not_mail), "--json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (doc["channel"].as_str(), doc["status"].as_str()),
        (Some("email"), Some("rejected"))
    );
}

#[test]
fn receivables_reports_and_dunning_run_from_the_command_line() {
    let s = Scratch::new("receivables");
    let out = s.o2c(&["report", "aging", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["totals"], serde_json::json!([]));
    let out = s.o2c(&["report", "aging", "--buckets", "30,10"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("buckets"),
        "{}",
        text(&out.stderr)
    );
    let out = s.o2c(&["report", "aging", "--csv"]);
    assert!(text(&out.stdout).starts_with("customer_id,name,currency,current,1-30"));
    let out = s.o2c(&["dunning", "run", "--dry-run"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("(dry run): 0 notice(s)"),
        "{}",
        text(&out.stdout)
    );
    let out = s.o2c(&["report", "kpis", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The benchmark on a scratch store: the kept aggregates equal a recomputation.
    let out = s.o2c(&[
        "bench",
        "aging",
        "--items",
        "3000",
        "--customers",
        "30",
        "--check",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let b: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(b["aggregates_checked"], true, "{b}");
}
#[test]
fn users_add_makes_a_staff_user_once_and_refuses_bad_input_changing_nothing() {
    let s = Scratch::new("users");
    for (args, expected) in [
        (
            vec![
                "--email",
                "ana@example.com",
                "--name",
                "Ana",
                "--role",
                "boss",
            ],
            "--role: unknown role `boss`",
        ),
        (
            vec![
                "--email",
                "ana(at)example.com",
                "--name",
                "Ana",
                "--role",
                "admin",
            ],
            "email: `ana(at)example.com` is not an e-mail address",
        ),
        (
            vec![
                "--email",
                "ana@example.com",
                "--name",
                " ",
                "--role",
                "admin",
            ],
            "name: must not be empty",
        ),
    ] {
        let mut all = vec!["users", "add"];
        all.extend(args);
        let out = s.o2c(&all);
        assert!(!out.status.success());
        assert!(
            text(&out.stderr).contains(expected),
            "{}",
            text(&out.stderr)
        );
    }
    let out = s.o2c(&["users", "list", "--json"]);
    assert_eq!(text(&out.stdout).trim(), "[]", "nobody was created");

    let out = s.o2c(&[
        "users",
        "add",
        "--email",
        "Ana@Example.com",
        "--name",
        "Ana",
        "--role",
        "admin",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let password = text(&out.stdout).trim().to_string();
    assert_eq!(
        password.len(),
        20,
        "a generated password, printed once: {password}"
    );
    let out = s.o2c(&[
        "users",
        "add",
        "--email",
        "ana@example.com",
        "--name",
        "Ana",
        "--role",
        "sales",
    ]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("a user with the e-mail ana@example.com already exists"));
    let out = s.o2c(&["users", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["email"], "ana@example.com");
    assert_eq!(list[0]["role"], "admin");
    assert!(!text(&out.stdout).contains("argon2"), "never the hash");
}

#[test]
fn demo_makes_a_user_per_role_and_leaves_work_in_every_queue_of_the_pages() {
    let s = Scratch::new("demo");
    let out = s.o2c(&[
        "demo",
        "--customers",
        "20",
        "--products",
        "50",
        "--orders",
        "60",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let roles: Vec<&str> = v["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        [
            "admin",
            "sales",
            "credit",
            "warehouse",
            "receivables",
            "collector",
            "customer"
        ]
    );
    assert_eq!(v["users"][0]["email"], "admin@demo.o2c");
    assert_eq!(v["users"][0]["password"], "o2c-demo-admin");
    assert!(
        v["users"][6]["customer_id"]
            .as_str()
            .unwrap()
            .starts_with("cus_")
    );
    let w = &v["waiting_for_people"];
    assert_eq!(
        (
            w["credit_holds"].as_i64(),
            w["intake_exceptions"].as_i64(),
            w["service_cases"].as_i64()
        ),
        (Some(3), Some(1), Some(1)),
        "{w}"
    );
    // The two the demo raises, plus any its short payments opened as deductions.
    assert!(w["disputes"].as_i64().unwrap() >= 2, "{w}");
    assert_eq!(
        v["trial_balance"]["balanced"], true,
        "{}",
        v["trial_balance"]
    );
    let out = s.o2c(&["users", "list", "--json"]);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&out.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        7
    );
}
