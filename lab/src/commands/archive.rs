//! `lab archive`: a folder's files as a tar stream on stdout, to fetch a recording out of
//! a pod whose image has no tar (`kubectl exec POD -- lab archive /out | tar -x`).

use std::path::PathBuf;

use clap::Args;

/// Write the files of DIR (not its subfolders) to stdout as a tar archive.
#[derive(Debug, Args)]
pub struct ArchiveArgs {
    pub dir: PathBuf,
}

pub fn archive(args: ArchiveArgs) -> anyhow::Result<()> {
    let mut builder = tar::Builder::new(std::io::stdout().lock());
    let mut entries: Vec<_> = std::fs::read_dir(&args.dir)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", args.dir.display()))?
        .collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries.into_iter().filter(|e| e.path().is_file()) {
        builder.append_path_with_name(entry.path(), entry.file_name())?;
    }
    builder.finish()?;
    Ok(())
}
