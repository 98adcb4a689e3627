//! Writes every provider's documentation pages (`docs/index.md`, `docs/resources/*.md`,
//! ...) from its schema. Run from anywhere: paths are relative to the crate root.

fn main() -> std::io::Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pages = platforms::comwit::docs(root);
    pages.extend(platforms::wayscloud::docs(root));
    pages.extend(platforms::cloudsync::docs(root));
    for (path, content) in pages {
        let full = root.join(&path);
        if let Some(dir) = full.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&full, content)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
