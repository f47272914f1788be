package models

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
)

// NetworkPolicy says which destinations webhook URLs may point at. It is checked when a
// subscriber is saved (for IP literals and schemes) and again at dial time, after DNS
// resolution, so that a name that resolves to an internal address is refused too.
//
// The zero value is the strictest policy: public addresses only, http allowed.
type NetworkPolicy struct {
	RequireHTTPS  bool // refuse http:// URLs
	AllowLoopback bool // allow 127.0.0.0/8 and ::1 (hookflow dev)
	AllowPrivate  bool // allow RFC 1918, unique-local, CGNAT and link-local unicast
}

// cloudMetadata holds the instance-metadata addresses of the major clouds; they are
// refused under every policy because they hand out credentials.
var cloudMetadata = []netip.Addr{
	netip.MustParseAddr("169.254.169.254"),
	netip.MustParseAddr("169.254.170.2"),
	netip.MustParseAddr("fd00:ec2::254"),
	netip.MustParseAddr("100.100.100.200"),
}

var (
	cgnat     = netip.MustParsePrefix("100.64.0.0/10")
	benchmark = netip.MustParsePrefix("198.18.0.0/15")
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
)

// AddressError is CheckIP's refusal: Addr is the refused address and Kind what it is
// ("a loopback address"). Error names the address; Kind alone is what may be shown to a
// partner about an address their host name resolved to, which they did not write and
// which would map the deployment's network.
type AddressError struct {
	Addr netip.Addr
	Kind string
}

func (e *AddressError) Error() string {
	if !e.Addr.IsValid() {
		return e.Kind
	}
	return "address " + e.Addr.String() + " is " + e.Kind
}

// CheckIP returns nil if the policy allows connecting to ip, or an *AddressError saying
// why not.
func (p NetworkPolicy) CheckIP(ip netip.Addr) error {
	if kind := p.refusedKind(ip); kind != "" {
		return &AddressError{Addr: ip.Unmap(), Kind: kind}
	}
	return nil
}

func (p NetworkPolicy) refusedKind(ip netip.Addr) string {
	ip = ip.Unmap()
	if nat64.Contains(ip) {
		// An IPv4 address embedded in the NAT64 prefix reaches that IPv4 host.
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	for _, m := range cloudMetadata {
		if ip == m {
			return "a cloud metadata endpoint"
		}
	}
	switch {
	case !ip.IsValid():
		return "invalid address"
	case ip.IsUnspecified():
		return "unspecified"
	case ip.IsLoopback():
		if !p.AllowLoopback {
			return "a loopback address"
		}
	case ip.IsMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsLinkLocalMulticast():
		return "a multicast address"
	case ip.Is4() && ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "the broadcast address"
	case ip.IsPrivate() || ip.IsLinkLocalUnicast() || cgnat.Contains(ip) || benchmark.Contains(ip):
		if !p.AllowPrivate {
			return "a private or link-local address"
		}
	case ip.Is4() && ip.As4()[0] == 0:
		return "in 0.0.0.0/8"
	}
	return ""
}

// CheckURL validates a webhook URL: absolute http(s), a host, no credentials, no
// fragment, at most 2048 bytes; an IP-literal host must pass CheckIP. The message of the
// returned error is safe to show to users.
func (p NetworkPolicy) CheckURL(raw string) error {
	if strings.TrimSpace(raw) == "" {
		return fmt.Errorf("is required")
	}
	if len(raw) > 2048 {
		return fmt.Errorf("must be at most 2048 characters")
	}
	if strings.TrimSpace(raw) != raw {
		return fmt.Errorf("must not have leading or trailing spaces")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("is not a valid URL")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if p.RequireHTTPS {
			return fmt.Errorf("must use https")
		}
	case "":
		return fmt.Errorf("must be an absolute http(s) URL")
	default:
		return fmt.Errorf("scheme %q is not allowed; use http or https", u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("must be an absolute http(s) URL with a host")
	}
	if u.User != nil {
		return fmt.Errorf("must not contain credentials; use custom_headers for authentication")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("must not contain a fragment")
	}
	if port := u.Port(); port != "" {
		if n := parsePort(port); n < 1 || n > 65535 {
			return fmt.Errorf("port %q is out of range", port)
		}
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" {
			return fmt.Errorf("must not use a zoned IPv6 address")
		}
		if err := p.CheckIP(ip); err != nil {
			return fmt.Errorf("points at a forbidden destination: %v", err)
		}
		return nil
	}
	if net.ParseIP(host) == nil && !validHostname(host) {
		return fmt.Errorf("host %q is not a valid host name", host)
	}
	// "localhost." is the same name as "localhost", fully qualified.
	if name := strings.TrimSuffix(strings.ToLower(host), "."); !p.AllowLoopback && (name == "localhost" || strings.HasSuffix(name, ".localhost")) {
		return fmt.Errorf("points at a forbidden destination: %s is a loopback name", host)
	}
	return nil
}

func parsePort(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' || n > 65535 {
			return -1
		}
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func validHostname(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
