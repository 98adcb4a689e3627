//! Projects: `GET /v1/projects` and `GET /v1/projects/{project}`.

use super::routes;
use super::{Client, Operation, Result};
use serde::{Deserialize, Serialize};

/// A project: the workspace that owns databases (and later apps and domains).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    pub project_id: String,
    pub name: String,
    /// RFC 3339.
    pub created_at: String,
}

#[derive(Deserialize)]
struct ProjectList {
    projects: Vec<Project>,
}

impl Client {
    /// `GET /v1/projects`: the projects the token is a member of (`project:read`).
    pub async fn list_projects(&self) -> Result<Vec<Project>> {
        let op = Operation::new(&routes::LIST_PROJECTS);
        let list: ProjectList = self.call(op, None, None).await?;
        Ok(list.projects)
    }

    /// `GET /v1/projects/{project}` (`project:read`).
    pub async fn get_project(&self, project_id: &str) -> Result<Project> {
        let op = Operation::on_project(&routes::GET_PROJECT, project_id);
        self.call(op, None, None).await
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::test_client;
    use super::*;
    use crate::client::testutil::{Canned, Mock};
    use crate::client::FailureKind;

    #[tokio::test]
    async fn list_projects_reads_the_envelope() {
        let mock = Mock::start(vec![Canned::json(
            200,
            include_str!("fixtures/projects.json"),
        )])
        .await;
        let client = test_client(&mock.base);
        let projects = client.list_projects().await.unwrap();
        assert_eq!(projects.len(), 2);
        assert_eq!(projects[0].project_id, "prj_6f1c2a");
        assert_eq!(projects[1].name, "beta");
        let calls = mock.calls();
        assert_eq!(calls[0].method, "GET");
        assert_eq!(calls[0].path, "/v1/projects");
    }

    #[tokio::test]
    async fn get_project_escapes_the_id() {
        let mock = Mock::start(vec![Canned::json(
            200,
            include_str!("fixtures/project.json"),
        )])
        .await;
        let client = test_client(&mock.base);
        let project = client.get_project("prj 1/2?x#y").await.unwrap();
        assert_eq!(
            project,
            Project {
                project_id: "prj_6f1c2a".into(),
                name: "acme".into(),
                created_at: "2026-11-23T19:00:00Z".into(),
            }
        );
        assert_eq!(mock.calls()[0].path, "/v1/projects/prj%201%2F2%3Fx%23y");
    }

    #[tokio::test]
    async fn get_project_refuses_dot_segments_without_sending() {
        let mock = Mock::start(vec![]).await;
        let client = test_client(&mock.base);
        for bad in ["", ".", ".."] {
            let failure = client.get_project(bad).await.unwrap_err();
            assert!(
                failure.kind() == FailureKind::Validation
                    && failure.status().is_none()
                    && failure.field() == Some("project_id"),
                "{failure:?}"
            );
        }
        assert_eq!(client.requests_sent(), 0);
        assert!(mock.calls().is_empty());
    }

    #[tokio::test]
    async fn project_not_found_is_typed() {
        let mock = Mock::start(vec![Canned::json(
            404,
            include_str!("fixtures/error_not_found.json"),
        )])
        .await;
        let failure = test_client(&mock.base)
            .get_project("prj_gone")
            .await
            .unwrap_err();
        assert!(failure.is_not_found());
        assert_eq!(failure.summary(), "Error reading project");
        assert!(failure
            .to_string()
            .contains("project `prj_gone` does not exist"));
    }
}
