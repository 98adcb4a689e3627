//! Writes the provider documentation pages (`docs/index.md`, `docs/resources/*.md`,
//! `docs/data-sources/*.md`) from the provider schema. Run from the repository root.

fn main() -> std::io::Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for (path, content) in comwit::docs::render_all(root) {
        let full = root.join(&path);
        if let Some(dir) = full.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&full, content)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
