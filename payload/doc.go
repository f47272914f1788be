// Package payload holds Hookflow's document model for event payloads: an ordered JSON
// object type, a strict decoder and an encoder whose output is exactly what ECMAScript's
// JSON.stringify prints for the same value.
//
// Receivers verify a delivery's signature over JSON.stringify(JSON.parse(body)), so the
// body Hookflow signs must be a fixed point of that expression. [Canonicalize], and
// [Marshal] of a value from [Decode], produce such a body: compact, members in the order
// JSON.parse gives them (array-index keys first in ascending numeric order, then the other
// keys in insertion order), no HTML escaping, no trailing newline, strings escaped as
// JSON.stringify escapes them and numbers printed as ECMAScript's Number::toString prints
// them (1.0 as 1, 1e21 as 1e+21, 0.0000001 as 1e-7).
//
// # Document model
//
// Values of the document model are nil (null), bool, float64, string, []any and *Object.
//
// Numbers are float64 because a receiver that parses the body sees IEEE-754 doubles.
// Integers above 2^53 therefore do not round-trip: 9007199254740993 decodes to
// 9007199254740992 and 123456789012345678901 is sent as 123456789012345680000, exactly as
// JSON.parse followed by JSON.stringify prints them. Producers that need larger integers
// (ids, amounts in the minor units of some currencies) must send them as strings.
//
// Strings hold UTF-8. A lone UTF-16 surrogate, which JSON allows as an escape such as
// \ud800, is held as its three-byte generalized UTF-8 (WTF-8) form, bytes ED A0..BF 80..BF,
// so that it can be escaped again on output as JSON.stringify does.
//
// # Stricter than JSON.parse
//
// [Decode] accepts exactly the RFC 8259 grammar, which is also what JSON.parse accepts,
// and additionally rejects, with a [*SyntaxError]:
//   - invalid UTF-8, which a receiver would silently replace with U+FFFD;
//   - duplicate keys in one object, where JSON.parse silently keeps the last value;
//   - nesting deeper than [MaxDepth] levels;
//   - numbers beyond the float64 range, which JSON.parse turns into Infinity and
//     JSON.stringify into null.
//
// Each of these would make the delivered document differ from what the producer sent.
// A *SyntaxError's fields and text are meant for the producer: the path of the value at
// fault, as in $.items[3].price, a lowercase message and the byte offset.
//
// # Encoding Go values
//
// [Append], [Marshal] and [MarshalChecked] also accept Go values that are convenient when
// Hookflow builds documents itself, such as the delivery envelope: integers of every
// kind, float32, []string, map[string]any, json.RawMessage holding text that is already
// canonical, and pointers. Go maps have no order, so a map's keys are printed in
// ECMAScript's order for array-index keys and then sorted lexicographically; use an
// *Object where the order matters.
package payload
