//! Parse throughput on generated files: a camt.053 and an MT940 with many entries each.
//!
//! `cargo run -p o2c-bank --release --example bench_parse [ENTRIES]` (default 100,000).
//! Prints entries parsed per second; a benchmark, never a test.

use std::fmt::Write;
use std::time::{Duration, Instant};

const RUNS: usize = 3;

/// Opening balance of every generated statement: 1,000,000.00.
const OPENING_CENTS: i64 = 100_000_000;

fn main() {
    let entries: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let camt = camt053(entries);
    let mt940 = mt940(entries);
    let bai2 = bai2(entries);
    println!("{entries} entries per file, best of {RUNS} runs");
    for (name, bytes) in [("camt.053", &camt), ("MT940", &mt940), ("BAI2", &bai2)] {
        let mut best = Duration::MAX;
        let mut parsed = 0;
        for _ in 0..RUNS {
            let start = Instant::now();
            let statements = o2c_bank::parse(bytes).expect("generated files parse");
            best = best.min(start.elapsed());
            parsed = statements.iter().map(|s| s.entries.len()).sum::<usize>();
            assert!(
                statements.iter().all(|s| s.warnings.is_empty()),
                "{name}: balances reconcile"
            );
        }
        let seconds = best.as_secs_f64();
        println!(
            "{name:9} {:>6.1} MB  {parsed:>7} entries in {:>7.1} ms  {:>10.0} entries/s  {:>6.1} MB/s",
            bytes.len() as f64 / 1e6,
            seconds * 1e3,
            parsed as f64 / seconds,
            bytes.len() as f64 / 1e6 / seconds,
        );
    }
}

/// Amount of entry `i` in cents; every third entry is a debit.
fn cents(i: usize) -> u64 {
    100 + (i as u64 * 7919) % 500_000
}

fn is_debit(i: usize) -> bool {
    i % 3 == 2
}

fn closing_cents(entries: usize, opening: i64) -> i64 {
    (0..entries).fold(opening, |sum, i| {
        if is_debit(i) {
            sum - cents(i) as i64
        } else {
            sum + cents(i) as i64
        }
    })
}

fn decimal(cents: i64, separator: char) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!(
        "{sign}{}{separator}{:02}",
        cents.abs() / 100,
        cents.abs() % 100
    )
}

fn camt053(entries: usize) -> Vec<u8> {
    let opening = OPENING_CENTS;
    let closing = closing_cents(entries, opening);
    let mut x = String::with_capacity(entries * 1500);
    x.push_str(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>BENCH</MsgId><CreDtTm>2024-03-01T06:00:00+01:00</CreDtTm></GrpHdr>
  <Stmt>
   <Id>BENCH-1</Id>
   <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>
"#,
    );
    for (code, amount) in [("OPBD", opening), ("CLBD", closing)] {
        let cdi = if amount < 0 { "DBIT" } else { "CRDT" };
        let _ = writeln!(
            x,
            r#"   <Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{}</Amt><CdtDbtInd>{cdi}</CdtDbtInd><Dt><Dt>2024-02-29</Dt></Dt></Bal>"#,
            decimal(amount.abs(), '.')
        );
    }
    for i in 0..entries {
        let amount = decimal(cents(i) as i64, '.');
        let (cdi, party, account) = if is_debit(i) {
            ("DBIT", "Cdtr", "CdtrAcct")
        } else {
            ("CRDT", "Dbtr", "DbtrAcct")
        };
        let _ = write!(
            x,
            r#"   <Ntry>
    <Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{cdi}</CdtDbtInd><RvslInd>false</RvslInd>
    <Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2024-02-29</Dt></BookgDt><ValDt><Dt>2024-02-29</Dt></ValDt>
    <AcctSvcrRef>BANK{i:010}</AcctSvcrRef>
    <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
    <NtryDtls><TxDtls>
     <Refs><InstrId>I{i}</InstrId><EndToEndId>E2E-{i:08}</EndToEndId></Refs>
     <Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{cdi}</CdtDbtInd>
     <RltdPties><{party}><Pty><Nm>Customer {i} GmbH &amp; Co. KG</Nm></Pty></{party}><{account}><Id><IBAN>CH9300762011623852957</IBAN></Id></{account}></RltdPties>
     <RltdAgts><DbtrAgt><FinInstnId><BICFI>UBSWCHZH80A</BICFI></FinInstnId></DbtrAgt></RltdAgts>
     <RmtInf><Ustrd>Invoice INV-{i:07} thank you</Ustrd><Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>RF18539007547034</Ref></CdtrRefInf></Strd></RmtInf>
    </TxDtls></NtryDtls>
   </Ntry>
"#
        );
    }
    x.push_str("  </Stmt>\n </BkToCstmrStmt>\n</Document>\n");
    x.into_bytes()
}

fn mt940(entries: usize) -> Vec<u8> {
    let opening = OPENING_CENTS;
    let closing = closing_cents(entries, opening);
    let mut x = String::with_capacity(entries * 300);
    let _ = write!(
        x,
        ":20:BENCH\r\n:25:DE89370400440532013000\r\n:28C:1/1\r\n:60F:C240229EUR{}\r\n",
        decimal(opening, ',')
    );
    for i in 0..entries {
        let mark = if is_debit(i) { 'D' } else { 'C' };
        let _ = write!(
            x,
            ":61:2402290229{mark}{}NTRFNONREF//B{i:015}\r\n\
             :86:166?00SEPA-GUTSCHRIFT?109075?20EREF+E2E-{i:08}?21SVWZ+Invoice INV-{i:07} RF185\r\n\
             ?2239007547034?30UBSWCHZH80A?31CH9300762011623852957?32Customer {i}?33 GmbH\r\n",
            decimal(cents(i) as i64, ',')
        );
    }
    let mark = if closing < 0 { 'D' } else { 'C' };
    let _ = write!(
        x,
        ":62F:{mark}240229EUR{}\r\n-\r\n",
        decimal(closing.abs(), ',')
    );
    x.into_bytes()
}

fn bai2(entries: usize) -> Vec<u8> {
    let opening = OPENING_CENTS;
    let closing = closing_cents(entries, opening);
    let mut x = String::with_capacity(entries * 100);
    let _ = writeln!(x, "01,BANK,CUST,240301,0700,1,80,1,2/");
    let _ = writeln!(x, "02,CUST,CITIUS33,1,240229,2400,USD,2/");
    let _ = writeln!(x, "03,123456789,,010,{opening},,,015,{closing},,/");
    let mut total = opening + closing;
    for i in 0..entries {
        let code = if is_debit(i) { 475 } else { 195 };
        total += cents(i) as i64;
        let _ = writeln!(
            x,
            "16,{code},{},0,B{i},INV-{i:07},PAYMENT FROM CUSTOMER {i}",
            cents(i)
        );
        let _ = writeln!(x, "88,REF RF18539007547034");
    }
    let records = 2 + 2 * entries;
    let _ = writeln!(x, "49,{total},{records}/");
    let _ = writeln!(x, "98,{total},1,{}/", records + 2);
    let _ = writeln!(x, "99,{total},1,{}/", records + 4);
    x.into_bytes()
}
