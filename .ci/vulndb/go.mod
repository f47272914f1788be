// The database builder is its own module so that what it needs never enters Hookflow's
// module graph.
module hookflow/ci/vulndb

go 1.26.8

require golang.org/x/mod v0.42.0
