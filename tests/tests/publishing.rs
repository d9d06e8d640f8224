//! The manifests' default images are the ones a release publishes. For tag v<version>,
//! .github/workflows/images.yml pushes ghcr.io/<repository owner>/<image>:<version>; k8s/
//! points at IMAGE_REGISTRY (k8s/versions.env, the project's owner) with the workspace
//! version (Cargo.toml) for every app image the workflow builds; and the workflow refuses
//! a tag that names another version, so the two cannot drift apart.

use std::process::Command;

use serde_yaml_ng::Value;

use lab_model::scenario::repo_root as repo;

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `[workspace.package] version` of Cargo.toml.
fn workspace_version() -> String {
    let manifest = read("Cargo.toml");
    let package = manifest
        .split("[workspace.package]")
        .nth(1)
        .expect("Cargo.toml has [workspace.package]");
    package
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("[workspace.package] has a version")
        .to_owned()
}

fn image_registry() -> String {
    read("k8s/versions.env")
        .lines()
        .find_map(|l| l.strip_prefix("IMAGE_REGISTRY="))
        .expect("k8s/versions.env sets IMAGE_REGISTRY")
        .to_owned()
}

fn workflow() -> Value {
    serde_yaml_ng::from_str(&read(".github/workflows/images.yml")).unwrap()
}

fn steps(workflow: &Value) -> &Vec<Value> {
    workflow["jobs"]["image"]["steps"].as_sequence().unwrap()
}

#[test]
fn the_manifests_run_the_images_a_release_of_this_version_publishes() {
    let (registry, version) = (image_registry(), workspace_version());
    assert!(registry.starts_with("ghcr.io/"), "{registry}");
    let workflow = workflow();
    let published: Vec<&str> = workflow["jobs"]["image"]["strategy"]["matrix"]["include"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|entry| entry["image"].as_str().unwrap())
        .collect();
    let meta = steps(&workflow)
        .iter()
        .find(|s| s["id"].as_str() == Some("meta"))
        .expect("the image-name step");
    assert_eq!(
        meta["with"]["images"].as_str(),
        Some("ghcr.io/${{ github.repository_owner }}/${{ matrix.image }}")
    );
    // metadata-action's semver tag drops the v: tag v0.1.0 -> image tag 0.1.0.
    let tags = meta["with"]["tags"].as_str().unwrap();
    assert!(
        tags.lines().any(|t| t == "type=semver,pattern={{version}}"),
        "{tags}"
    );

    let rendered = Command::new("kubectl")
        .args(["kustomize", "k8s"])
        .current_dir(repo())
        .output()
        .expect("kubectl (for kustomize) is installed");
    assert!(
        rendered.status.success(),
        "{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    let mut images = Vec::new();
    for document in String::from_utf8(rendered.stdout).unwrap().split("\n---\n") {
        let resource: Value = serde_yaml_ng::from_str(document).unwrap();
        if resource["kind"].as_str() != Some("Deployment") {
            continue;
        }
        for container in resource["spec"]["template"]["spec"]["containers"]
            .as_sequence()
            .unwrap()
        {
            images.push(container["image"].as_str().unwrap().to_owned());
        }
    }
    images.sort();
    assert_eq!(
        images,
        [
            format!("{registry}/kafka-consumer:{version}"),
            format!("{registry}/kafka-producer-callback:{version}")
        ]
    );
    for image in &images {
        let name = image.rsplit('/').next().unwrap().split(':').next().unwrap();
        assert!(
            published.contains(&name),
            "{name} is not in the workflow's {published:?}"
        );
    }
}

#[test]
fn the_workflow_refuses_a_tag_that_names_another_version() {
    let workflow = workflow();
    let guard = steps(&workflow)
        .iter()
        .find(|s| s["name"].as_str() == Some("The tag names the workspace version"))
        .expect("the guard step");
    assert_eq!(
        guard["if"].as_str(),
        Some("startsWith(github.ref, 'refs/tags/')")
    );
    let script = guard["run"].as_str().unwrap();
    let run = |tag: &str| {
        Command::new("bash")
            .args(["-eu", "-c", script])
            .env("GITHUB_REF_NAME", tag)
            .current_dir(repo())
            .output()
            .unwrap()
    };
    let version = workspace_version();
    let ok = run(&format!("v{version}"));
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let refused = run("v9.9.9");
    assert_eq!(refused.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&refused.stderr).trim(),
        format!("tag v9.9.9 does not name the workspace version {version} (Cargo.toml)")
    );
}
