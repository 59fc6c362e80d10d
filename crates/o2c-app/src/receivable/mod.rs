//! Receivables: every unpaid invoice has a reason and a next step. Open items and aging
//! (`aging`), disputes and deductions (`disputes`), promises to pay and contact notes
//! (`promises`, `notes`), dunning (`dunning`), write-offs (`writeoff`), the collections
//! worklist and key figures (`kpis`), statements of account (`statement`).

pub mod aging;
pub mod bench;
