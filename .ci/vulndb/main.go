// Command vulndb lets CI run govulncheck offline. CI reaches the Go module proxy but not
// vuln.go.dev, and the module golang.org/x/vulndb carries the same reports as OSV files
// under data/osv.
//
// "vulndb build" downloads a pinned version of that module through the proxy and lays
// its reports out as a database in the v1 format that govulncheck reads with
// -db file:///DIR (https://go.dev/security/vuln/database#api):
//
//	index/db.json       {"modified"}: the newest entry's modification time
//	index/modules.json  [{"path","vulns":[{"id","modified","fixed"}]}], by path then id
//	index/vulns.json    [{"id","modified","aliases"}], by id
//	ID/<id>.json        each OSV entry as the module has it
//
// "vulndb check" reads govulncheck's -format json output on stdin and fails when the
// code calls a vulnerable function, unless the accepted file lists that vulnerability
// and module with the reason it cannot be fixed yet; it also fails on an accepted line
// that no longer matches a finding, so that the file only lists what is still there.
//
// Usage, from this directory:
//
//	go run . build -version v0.0.0-20261105234957-e22db6528018 -out DIR
//	go run . check -accepted FILE < findings.json
package main

import (
	"fmt"
	"log"
	"os"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("vulndb: ")
	if len(os.Args) < 2 {
		log.Fatal("usage: vulndb build -version V -out DIR | vulndb check -accepted FILE < findings.json")
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "build":
		err = runBuild(args)
	case "check":
		err = runCheck(args, os.Stdin, os.Stdout)
	default:
		err = fmt.Errorf("unknown command %q", cmd)
	}
	if err != nil {
		log.Fatal(err)
	}
}
