// Placeholder entry until the CLI issue lands: prints help so the bin entry works.
console.log(`switchyard - Layer-4 load balancer

Usage: switchyard <command>

Commands arrive in later releases: run, check, certs, demo, bench, version.`);
