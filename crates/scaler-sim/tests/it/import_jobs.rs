//! `import github-jobs`, `import sacct`.
