//! Project domains, DNS records and app hostnames (`docs/api/comwit.md`, "Domains and
//! DNS").
//!
//! Creates are not repeated blindly (a repeat answers 409, never a duplicate): when the
//! answer of a create is lost, the client looks for what it asked for (the domain by
//! name, the identical record, the hostname on that app) and returns it if it is there.

use serde::{Deserialize, Serialize};

use super::routes;
use super::{encode, Client, Detail, ExistingObject, Operation, Result};

/// A project domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Domain {
    pub domain_id: String,
    pub project_id: String,
    /// The domain's name, lowercase without the final dot.
    pub domain: String,
    /// The name servers to set at the registrar.
    #[serde(default)]
    pub name_servers: Vec<String>,
    /// `pending` or `delegated` (any other value is kept as it came).
    pub delegation_status: String,
    /// What the platform's NS lookup answered.
    #[serde(default)]
    pub delegated_name_servers: Vec<String>,
    #[serde(default)]
    pub soa_serial: Option<i64>,
    pub created_at: String,
}

/// A DNS record (canonical forms: `name` relative, `@` for the apex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsRecord {
    pub record_id: String,
    pub domain_id: String,
    /// The zone's name.
    pub domain: String,
    pub name: String,
    pub fqdn: String,
    #[serde(rename = "type")]
    pub rtype: String,
    pub value: String,
    pub ttl: i64,
    #[serde(default)]
    pub priority: Option<i64>,
    #[serde(default)]
    pub weight: Option<i64>,
    #[serde(default)]
    pub port: Option<i64>,
    /// `hostname:<hostname>` for records an automatic-DNS hostname owns.
    #[serde(default)]
    pub managed_by: Option<String>,
}

/// The body of a record create or update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordRequest {
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    pub value: String,
    pub ttl: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<i64>,
}

/// One record a hostname needs (names are FQDNs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeededRecord {
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    pub value: String,
    pub ttl: i64,
    /// For a missing record: what the lookup found.
    #[serde(default)]
    pub found: Vec<String>,
    /// For a missing record: why the lookup failed.
    #[serde(default)]
    pub error: Option<String>,
}

/// An app hostname with its verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hostname {
    pub hostname: String,
    pub app_id: String,
    /// `manual` or `automatic`.
    pub dns_mode: String,
    #[serde(default)]
    pub domain_id: Option<String>,
    /// `pending` or `verified`.
    pub status: String,
    #[serde(default)]
    pub records: Vec<NeededRecord>,
    #[serde(default)]
    pub missing: Vec<NeededRecord>,
    #[serde(default)]
    pub verified_at: Option<String>,
    pub created_at: String,
}

impl Hostname {
    pub fn is_verified(&self) -> bool {
        self.status == "verified"
    }

    /// "`TXT _comwit-challenge.www.example.com` (wants `...`, DNS answers nothing)", one
    /// per missing record, for messages.
    pub fn missing_summary(&self) -> String {
        self.missing
            .iter()
            .map(|m| {
                let found = match (&m.error, m.found.is_empty()) {
                    (Some(e), _) => format!("lookup failed: {e}"),
                    (None, true) => "DNS answers nothing".to_owned(),
                    (None, false) => format!("DNS answers {}", m.found.join(", ")),
                };
                format!("{} {} = {} ({found})", m.rtype, m.name, m.value)
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The body of a hostname attach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostnameRequest {
    pub hostname: String,
    pub dns_mode: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain_id: Option<String>,
}

#[derive(Deserialize)]
struct DomainList {
    domains: Vec<Domain>,
}

#[derive(Deserialize)]
struct RecordList {
    records: Vec<DnsRecord>,
}

#[derive(Deserialize)]
struct HostnameList {
    hostnames: Vec<Hostname>,
}

impl RecordRequest {
    /// Whether `record` is what this request asks for (canonical forms on both sides).
    fn matches(&self, record: &DnsRecord) -> bool {
        record.name == self.name
            && record.rtype == self.rtype
            && record.value == self.value
            && record.priority == self.priority
            && record.weight == self.weight
            && record.port == self.port
    }
}

impl Client {
    /// `GET /v1/projects/{project}/domains` (`domain:read`).
    pub async fn list_domains(&self, project_id: &str) -> Result<Vec<Domain>> {
        let op = Operation::on_project(&routes::LIST_DOMAINS, project_id);
        let list: DomainList = self.call(op, None, None).await?;
        Ok(list.domains)
    }

    /// `POST /v1/projects/{project}/domains` (`domain:write`). A lost answer: the domain
    /// of that name in the project, if it is there now.
    pub async fn create_domain(&self, project_id: &str, domain: &str) -> Result<Domain> {
        let mut op =
            Operation::on_project(&routes::CREATE_DOMAIN, project_id).with_domain_name(domain);
        op.domain_id = None;
        let body = encode(&op, &serde_json::json!({ "domain": domain }))?;
        match self.call::<Domain>(op, Some(body), None).await {
            Ok(d) => Ok(d),
            Err(f) if f.outcome_unknown() => match self.find_domain(project_id, domain).await {
                Some(d) => Ok(d),
                None => Err(f),
            },
            Err(f) => Err(f),
        }
    }

    async fn find_domain(&self, project_id: &str, domain: &str) -> Option<Domain> {
        let want = domain.trim_end_matches('.').to_ascii_lowercase();
        self.list_domains(project_id)
            .await
            .ok()?
            .into_iter()
            .find(|d| d.domain == want)
    }

    /// `GET /v1/domains/{domain}` (`domain:read`).
    pub async fn get_domain(&self, domain_id: &str) -> Result<Domain> {
        let op = Operation::on_domain(&routes::GET_DOMAIN, domain_id);
        self.call(op, None, None).await
    }

    /// `DELETE /v1/domains/{domain}` (`domain:write`): the zone and its records go.
    pub async fn delete_domain(&self, domain_id: &str) -> Result<()> {
        let op = Operation::on_domain(&routes::DELETE_DOMAIN, domain_id);
        self.call_no_content(op).await
    }

    /// `GET /v1/domains/{domain}/records` (`domain:read`).
    pub async fn list_records(&self, domain_id: &str) -> Result<Vec<DnsRecord>> {
        let op = Operation::on_domain(&routes::LIST_DNS_RECORDS, domain_id);
        let list: RecordList = self.call(op, None, None).await?;
        Ok(list.records)
    }

    /// `POST /v1/domains/{domain}/records` (`domain:write`). A lost answer: the identical
    /// record, if the zone holds it now.
    pub async fn create_record(
        &self,
        domain_id: &str,
        request: &RecordRequest,
    ) -> Result<DnsRecord> {
        let op = Operation::on_domain(&routes::CREATE_DNS_RECORD, domain_id);
        let body = encode(&op, request)?;
        match self.call::<DnsRecord>(op, Some(body), None).await {
            Ok(r) => Ok(r),
            Err(f) if f.outcome_unknown() => {
                let found = self.list_records(domain_id).await.ok().and_then(|list| {
                    list.into_iter()
                        .find(|r| r.managed_by.is_none() && request.matches(r))
                });
                found.ok_or(f)
            }
            // A duplicate: the identical record, so the message can give its import id.
            Err(mut f) if f.is_conflict() => {
                let found = self.list_records(domain_id).await.ok().and_then(|list| {
                    list.into_iter()
                        .find(|r| r.managed_by.is_none() && request.matches(r))
                });
                if let Some(r) = found {
                    f.detail = Detail::NameTaken {
                        existing: Some(ExistingObject {
                            id: format!("{}/{}", r.domain_id, r.record_id),
                            created_at: String::new(),
                        }),
                    };
                }
                Err(f)
            }
            Err(f) => Err(f),
        }
    }

    /// `GET /v1/domains/{domain}/records/{record}` (`domain:read`).
    pub async fn get_record(&self, domain_id: &str, record_id: &str) -> Result<DnsRecord> {
        let op = Operation::on_domain(&routes::GET_DNS_RECORD, domain_id).with_record(record_id);
        self.call(op, None, None).await
    }

    /// `PUT /v1/domains/{domain}/records/{record}` (`domain:write`).
    pub async fn update_record(
        &self,
        domain_id: &str,
        record_id: &str,
        request: &RecordRequest,
    ) -> Result<DnsRecord> {
        let op = Operation::on_domain(&routes::UPDATE_DNS_RECORD, domain_id).with_record(record_id);
        let body = encode(&op, request)?;
        self.call(op, Some(body), None).await
    }

    /// `DELETE /v1/domains/{domain}/records/{record}` (`domain:write`).
    pub async fn delete_record(&self, domain_id: &str, record_id: &str) -> Result<()> {
        let op = Operation::on_domain(&routes::DELETE_DNS_RECORD, domain_id).with_record(record_id);
        self.call_no_content(op).await
    }

    /// `GET /v1/apps/{app}/hostnames` (`app:read`).
    pub async fn list_hostnames(&self, app_id: &str) -> Result<Vec<Hostname>> {
        let op = Operation::on_app(&routes::LIST_HOSTNAMES, app_id);
        let list: HostnameList = self.call(op, None, None).await?;
        Ok(list.hostnames)
    }

    /// `POST /v1/apps/{app}/hostnames` (`app:write`). A lost answer, or a 409 because the
    /// hostname is already on this app in the same mode (an earlier attempt took effect):
    /// the hostname as it is now.
    pub async fn create_hostname(
        &self,
        app_id: &str,
        request: &HostnameRequest,
    ) -> Result<Hostname> {
        let op = Operation::on_app(&routes::CREATE_HOSTNAME, app_id)
            .with_hostname(request.hostname.clone());
        let body = encode(&op, request)?;
        match self.call::<Hostname>(op, Some(body), None).await {
            Ok(h) => Ok(h),
            Err(f) if f.outcome_unknown() || f.status() == Some(409) => {
                match self.get_hostname(app_id, &request.hostname).await {
                    Ok(h) if h.dns_mode == request.dns_mode => Ok(h),
                    _ => Err(f),
                }
            }
            Err(f) => Err(f),
        }
    }

    /// `GET /v1/apps/{app}/hostnames/{hostname}` (`app:read`): verified now.
    pub async fn get_hostname(&self, app_id: &str, hostname: &str) -> Result<Hostname> {
        let op = Operation::on_app(&routes::GET_HOSTNAME, app_id).with_hostname(hostname);
        self.call(op, None, None).await
    }

    /// `DELETE /v1/apps/{app}/hostnames/{hostname}` (`app:write`): its records go too.
    pub async fn delete_hostname(&self, app_id: &str, hostname: &str) -> Result<()> {
        let op = Operation::on_app(&routes::DELETE_HOSTNAME, app_id).with_hostname(hostname);
        self.call_no_content(op).await
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::test_client;
    use super::*;
    use crate::client::testutil::{Canned, Mock};

    const RECORD: &str = r#"{"record_id": "rec_1", "domain_id": "dom_1", "domain": "example.com",
        "name": "www", "fqdn": "www.example.com", "type": "A", "value": "192.0.2.1",
        "ttl": 300, "priority": null, "weight": null, "port": null, "managed_by": null,
        "created_at": "t", "updated_at": "t"}"#;

    /// The request for the record `RECORD` holds.
    fn www_a() -> RecordRequest {
        RecordRequest {
            name: "www".into(),
            rtype: "A".into(),
            value: "192.0.2.1".into(),
            ttl: 300,
            priority: None,
            weight: None,
            port: None,
        }
    }

    #[tokio::test]
    async fn a_record_create_sends_the_canonical_body_and_reads_the_answer() {
        let mock = Mock::start(vec![Canned::json(201, RECORD)]).await;
        let client = test_client(&mock.base);
        let request = www_a();
        let r = client.create_record("dom_1", &request).await.unwrap();
        assert_eq!(r.fqdn, "www.example.com");
        let call = &mock.calls()[0];
        assert_eq!(call.path, "/v1/domains/dom_1/records");
        let body: serde_json::Value = serde_json::from_slice(&call.body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"name": "www", "type": "A", "value": "192.0.2.1", "ttl": 300})
        );
    }

    #[tokio::test]
    async fn a_lost_record_create_finds_the_identical_record() {
        let list = format!(r#"{{"records": [{RECORD}], "soa_serial": 2}}"#);
        let mock = Mock::start(vec![
            Canned::json(503, r#"{"error": {"code": "unavailable", "message": "x"}}"#),
            Canned::json(200, &list),
        ])
        .await;
        let client = test_client(&mock.base);
        let request = www_a();
        let r = client.create_record("dom_1", &request).await.unwrap();
        assert_eq!(r.record_id, "rec_1");
        assert_eq!(mock.calls().len(), 2, "the create is not repeated");
    }

    #[tokio::test]
    async fn a_duplicate_record_names_the_record_and_its_import_command() {
        let list = format!(r#"{{"records": [{RECORD}], "soa_serial": 2}}"#);
        let conflict =
            r#"{"error": {"code": "conflict", "message": "an identical record exists"}}"#;
        let request = www_a();
        let mock = Mock::start(vec![Canned::json(409, conflict), Canned::json(200, &list)]).await;
        let failure = test_client(&mock.base)
            .create_record("dom_1", &request)
            .await
            .unwrap_err();
        let text = failure.to_string();
        assert!(text.contains("`dom_1/rec_1` is the same record"), "{text}");
        assert!(!text.contains("refresh and try again"), "{text}");
        assert_eq!(mock.calls().len(), 2, "the create is not repeated");

        // A clash with another record (no identical one): what to resolve, no refresh.
        let other = RecordRequest {
            rtype: "CNAME".into(),
            value: "elsewhere.example.net".into(),
            ..request
        };
        let mock = Mock::start(vec![Canned::json(409, conflict), Canned::json(200, &list)]).await;
        let failure = test_client(&mock.base)
            .create_record("dom_1", &other)
            .await
            .unwrap_err();
        assert!(
            failure.is_conflict() && failure.op.is(&routes::CREATE_DNS_RECORD),
            "{failure}"
        );
    }

    #[tokio::test]
    async fn a_hostname_says_what_is_missing() {
        let body = r#"{"hostname": "www.example.com", "app_id": "app_1", "dns_mode": "manual",
            "domain_id": null, "status": "pending",
            "records": [{"name": "www.example.com", "type": "CNAME", "value": "web.apps.localhost", "ttl": 300}],
            "missing": [{"name": "www.example.com", "type": "CNAME", "value": "web.apps.localhost", "ttl": 300, "found": ["other.net"], "error": null}],
            "verified_at": null, "created_at": "t"}"#;
        let mock = Mock::start(vec![Canned::json(200, body)]).await;
        let h = test_client(&mock.base)
            .get_hostname("app_1", "www.example.com")
            .await
            .unwrap();
        assert!(!h.is_verified());
        assert_eq!(
            h.missing_summary(),
            "CNAME www.example.com = web.apps.localhost (DNS answers other.net)"
        );
        assert_eq!(
            mock.calls()[0].path,
            "/v1/apps/app_1/hostnames/www.example.com"
        );
    }
}

#[derive(Deserialize)]
struct RawHostnameList {
    #[serde(default)]
    hostnames: Vec<serde_json::Value>,
}

impl Client {
    /// `GET /v1/apps/{app}/hostnames` (`app:read`) for a listing: each hostname read on its
    /// own, so an odd one is an [`OddItem`](super::apps::OddItem) and the others are still
    /// listed.
    pub async fn list_hostnames_each(
        &self,
        app_id: &str,
    ) -> Result<Vec<std::result::Result<Hostname, super::apps::OddItem>>> {
        let op = Operation::on_app(&routes::LIST_HOSTNAMES, app_id);
        let list: RawHostnameList = self.call(op, None, None).await?;
        Ok(super::apps::each(list.hostnames, &["hostname"]))
    }
}
