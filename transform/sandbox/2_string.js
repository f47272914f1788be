// Part of the sandbox prelude; see sandbox.go. Guards of String, of listing the keys
// of a string, and of RegExp.

// ---- String ----

const origRepeat = replace(SP, 'repeat', {
	repeat(count) {
		const s = thisString(this, 'repeat');
		const n = toInteger(count);
		if (n > 0 && s.length > 0) checkString(s.length * n);
		return apply(origRepeat, s, [n]);
	}
}.repeat);
for (const name of ['padStart', 'padEnd']) {
	const orig = SP[name];
	replace(SP, name, {
		guarded(maxLength, fill) {
			const s = thisString(this, name);
			const n = toLength(maxLength);
			if (n > s.length) checkString(n);
			return apply(orig, s, [n, fill]);
		}
	}.guarded);
}
replace(SP, 'concat', {
	concat(...args) {
		let r = thisString(this, 'concat');
		for (let i = 0; i < args.length; i++) r = add(r, `${args[i]}`);
		return r;
	}
}.concat);

// Replacing. A replacer function's results are added up against the limit as it
// returns them. A replacement string goes to goja as it is, so that goja substitutes
// it in Go; when its expansion could outgrow the limit, a first pass with a function
// adds up the length of each expansion (GetSubstitution) without building it.
const countingReplacer = (fn) => {
	let total = 0;
	return (...args) => {
		const r = `${apply(fn, undefined, args)}`;
		total += r.length;
		checkString(total);
		return r;
	};
};
// parseTemplate counts what each expansion of template is made of, for matches with
// m captures and, if hasGroups, named groups.
const parseTemplate = (template, m, hasGroups) => {
	const t = { literal: 0, matched: 0, before: 0, after: 0, captures: [], groups: [] };
	let i = 0;
	for (; ;) {
		const j = template.indexOf('$', i);
		if (j < 0 || j + 1 >= template.length) {
			t.literal += template.length - i;
			return t;
		}
		t.literal += j - i;
		const c = template[j + 1];
		i = j + 2;
		if (c === '$') {
			t.literal++;
		} else if (c === '&') {
			t.matched++;
		} else if (c === '`') {
			t.before++;
		} else if (c === "'") {
			t.after++;
		} else if (c >= '0' && c <= '9') {
			let n = +c;
			const d = template[i];
			if (d !== undefined && d >= '0' && d <= '9' && n * 10 + +d >= 1 && n * 10 + +d <= m) {
				n = n * 10 + +d;
				i++;
			}
			if (n >= 1 && n <= m) t.captures[n] = (t.captures[n] || 0) + 1;
			else t.literal += 2;
		} else if (c === '<' && hasGroups) {
			const end = template.indexOf('>', i);
			if (end < 0) {
				t.literal += 2;
			} else {
				t.groups[t.groups.length] = apply(origSlice, template, [i, end]);
				i = end + 1;
			}
		} else {
			t.literal += 2;
		}
	}
};
const expansionCounter = (template) => {
	let t = null, total = 0;
	return (...args) => {
		let k = args.length - 1;
		let groups;
		if (typeof args[k] !== 'string') groups = args[k--];
		const str = args[k], position = args[k - 1], matched = args[0];
		if (t === null) t = parseTemplate(template, k - 2, groups !== undefined);
		total += t.literal + t.matched * matched.length + t.before * position +
			t.after * (str.length - min(position + matched.length, str.length));
		for (let n = 1; n < t.captures.length; n++) {
			if (t.captures[n] !== undefined && args[n] !== undefined) total += t.captures[n] * `${args[n]}`.length;
		}
		for (let n = 0; n < t.groups.length; n++) {
			const v = groups[t.groups[n]];
			if (v !== undefined) total += `${v}`.length;
		}
		checkString(total);
		return '';
	};
};
// boundedReplace calls run, which runs the original replace with a replacement, with
// replaceValue or a guarded stand-in for it. rx is the RegExp searched with, if any.
const boundedReplace = (run, s, replaceValue, rx) => {
	if (typeof replaceValue === 'function') return run(countingReplacer(replaceValue));
	const template = `${replaceValue}`;
	let dollars = 0;
	for (let i = template.indexOf('$'); i >= 0; i = template.indexOf('$', i + 1)) dollars++;
	// At most s.length + 1 matches, each expanding to the template's text plus, per
	// $ pattern, at most all of s.
	if ((s.length + 1) * (template.length + dollars * s.length) > MAX_STRING) {
		const lastIndex = rx === undefined ? 0 : rx.lastIndex;
		run(expansionCounter(template));
		if (rx !== undefined && rx.lastIndex !== lastIndex) rx.lastIndex = lastIndex;
	}
	return run(template);
};
for (const name of ['replace', 'replaceAll']) {
	const orig = SP[name];
	replace(SP, name, {
		guarded(searchValue, replaceValue) {
			if (this === undefined || this === null) {
				throw new TypeError('String.prototype.' + name + ' called on null or undefined');
			}
			if (searchValue !== null && (typeof searchValue === 'object' || typeof searchValue === 'function')) {
				// As the specification says, but reading Symbol.replace only once.
				if (name === 'replaceAll' && searchValue[Symbol.match] !== undefined &&
					!apply(origIncludes, `${searchValue.flags}`, ['g'])) {
					throw new TypeError('String.prototype.replaceAll called with a non-global RegExp argument');
				}
				const method = searchValue[Symbol.replace];
				if (method !== undefined && method !== null) return apply(method, searchValue, [this, replaceValue]);
			}
			const s = `${this}`, search = `${searchValue}`;
			if (name === 'replaceAll' && s.length / (search.length || 1) > MAX_ARRAY) {
				// goja lists every match before replacing any, in Go.
				throw new RangeError('replaceAll could match more than ' + MAX_ARRAY +
					' times in a string of ' + s.length + ' characters');
			}
			return boundedReplace((rv) => apply(orig, s, [search, rv]), s, replaceValue, undefined);
		}
	}.guarded);
}
const origSplit = replace(SP, 'split', {
	split(separator, limit) {
		if (this === undefined || this === null) {
			throw new TypeError('String.prototype.split called on null or undefined');
		}
		const lim = limit === undefined ? MAX_ARRAY + 1 : min(limit >>> 0, MAX_ARRAY + 1);
		const r = apply(origSplit, this, [separator, lim]);
		checkArray(r.length);
		return r;
	}
}.split);
const origStringIterator = SP[Symbol.iterator];
defineProperty(SP, Symbol.iterator, {
	value: {
		[Symbol.iterator]() {
			const s = thisString(this, '[Symbol.iterator]');
			checkArray(s.length);
			return apply(origStringIterator, s, []);
		}
	}[Symbol.iterator], writable: true, enumerable: false, configurable: true
});
replace(OrigString, 'raw', {
	raw(template, ...subs) {
		const raw = Object(Object(template).raw);
		const n = toLength(raw.length);
		checkArray(n);
		let out = '';
		for (let i = 0; i < n; i++) {
			out = add(out, `${raw[i]}`);
			if (i + 1 < n && i < subs.length) out = add(out, `${subs[i]}`);
		}
		return out;
	}
}.raw);
// escape and the encoders grow their input up to sixfold (in UTF-16 code units) in one
// Go call; a long string is encoded a slice at a time, never splitting a surrogate
// pair, each piece added up against the limit.
const ENCODE_CHUNK = 16384;
for (const name of ['escape', 'encodeURI', 'encodeURIComponent']) {
	const orig = G[name];
	replace(G, name, {
		guarded(s) {
			const str = `${s}`;
			if (str.length <= ENCODE_CHUNK) {
				const r = apply(orig, undefined, [str]);
				checkString(r.length);
				return r;
			}
			let out = '';
			for (let i = 0; i < str.length;) {
				let j = min(i + ENCODE_CHUNK, str.length);
				const c = apply(origCharCodeAt, str, [j - 1]);
				if (j < str.length && c >= 0xD800 && c <= 0xDBFF) j++;
				out = add(out, apply(orig, undefined, [apply(origSlice, str, [i, j])]));
				i = j;
			}
			return out;
		}
	}.guarded);
}
// goja trims by converting the whole string to UTF-8 and back; only the whitespace at
// the ends needs looking at.
const isSpace = (c) => c === 32 || (c >= 9 && c <= 13) || c === 0xA0 || c === 0x1680 ||
	(c >= 0x2000 && c <= 0x200A) || c === 0x2028 || c === 0x2029 || c === 0x202F || c === 0x205F ||
	c === 0x3000 || c === 0xFEFF;
for (const [name, start, end] of [['trim', true, true], ['trimStart', true, false], ['trimEnd', false, true]]) {
	replace(SP, name, {
		guarded() {
			const s = thisString(this, name);
			let i = 0, j = s.length;
			if (start) while (i < j && isSpace(apply(origCharCodeAt, s, [i]))) i++;
			if (end) while (j > i && isSpace(apply(origCharCodeAt, s, [j - 1]))) j--;
			return i === 0 && j === s.length ? s : apply(origSlice, s, [i, j]);
		}
	}.guarded);
}

// Case mapping and normalization run in Go over the whole string and may lengthen it
// (ß becomes SS, NFKD makes 18 characters of one): mapString produces the same
// result in bounded chunks and stops when the runtime is interrupted.
for (const [name, op] of [['toUpperCase', 'upper'], ['toLocaleUpperCase', 'upper'],
	['toLowerCase', 'lower'], ['toLocaleLowerCase', 'lower']]) {
	replace(SP, name, {
		guarded() {
			return mapString(op, thisString(this, name));
		}
	}.guarded);
}
replace(SP, 'normalize', {
	normalize(form) {
		const s = thisString(this, 'normalize');
		const f = form === undefined ? 'NFC' : `${form}`;
		if (f !== 'NFC' && f !== 'NFD' && f !== 'NFKC' && f !== 'NFKD') {
			throw new RangeError('The normalization form should be one of NFC, NFD, NFKC, NFKD');
		}
		return mapString(f, s);
	}
}.normalize);
// Collation normalizes both strings and compares them in one Go call, at about 2µs a
// character; longer strings are refused rather than run past the time limit.
const origLocaleCompare = replace(SP, 'localeCompare', {
	localeCompare(that) {
		const s = thisString(this, 'localeCompare'), t = `${that}`;
		if (s.length > MAX_COLLATE || t.length > MAX_COLLATE) {
			throw new RangeError('localeCompare compares strings of at most ' + MAX_COLLATE +
				' characters in conditions, got ' + (s.length > t.length ? s.length : t.length));
		}
		return apply(origLocaleCompare, s, [t]);
	}
}.localeCompare);

// ---- Date ----

// goja parses a date string in Go, trying its layouts one after the other: a
// megabyte takes a fifth of a second. No date is written in more than
// MAX_DATE_STRING characters; longer strings are an invalid date, as unparseable
// ones are.
const MAX_DATE_STRING = 256;
const OrigDate = Date, DP = Date.prototype, getTime = DP.getTime;
const isDate = (v) => {
	try {
		apply(getTime, v, []);
		return true;
	} catch (_) {
		return false;
	}
};
// toPrimitive is ToPrimitive with no hint, as the Date constructor applies it.
const toPrimitive = (v) => {
	const isObject = (r) => r !== null && (typeof r === 'object' || typeof r === 'function');
	const exotic = v[Symbol.toPrimitive];
	if (exotic !== undefined && exotic !== null) {
		const r = apply(exotic, v, ['default']);
		if (isObject(r)) throw new TypeError('Cannot convert object to primitive value');
		return r;
	}
	for (const name of ['valueOf', 'toString']) {
		const f = v[name];
		if (typeof f === 'function') {
			const r = apply(f, v, []);
			if (!isObject(r)) return r;
		}
	}
	throw new TypeError('Cannot convert object to primitive value');
};
const dateArg = (v) => {
	if (v !== null && (typeof v === 'object' || typeof v === 'function') && !isDate(v)) v = toPrimitive(v);
	return typeof v === 'string' && v.length > MAX_DATE_STRING ? NaN : v;
};
const DateCtor = function Date(...args) {
	if (new.target === undefined) return apply(OrigDate, undefined, []);
	if (args.length === 1) args[0] = dateArg(args[0]);
	return construct(OrigDate, args, new.target);
};
DateCtor.prototype = DP;
defineProperty(DateCtor, 'length', { value: 7 });
for (const key of ownKeys(OrigDate)) {
	if (key !== 'prototype' && key !== 'length' && key !== 'name') {
		defineProperty(DateCtor, key, getOwnPropertyDescriptor(OrigDate, key));
	}
}
const origDateParse = replace(DateCtor, 'parse', {
	parse(s) {
		const str = `${s}`;
		return str.length > MAX_DATE_STRING ? NaN : apply(origDateParse, OrigDate, [str]);
	}
}.parse);
defineProperty(DP, 'constructor', { value: DateCtor, writable: true, enumerable: false, configurable: true });
defineProperty(G, 'Date', { value: DateCtor, writable: true, enumerable: false, configurable: true });

// Listing the keys of a string lists one per character, in Go: Object.keys of a
// string of a million characters takes tens of megabytes, out of reach of the time
// limit. A String object is recognized by its own read-only length.
const checkStringKeys = (o) => {
	let n = 0;
	if (typeof o === 'string') {
		n = o.length;
	} else if (o !== null && typeof o === 'object' && !isArray(o)) {
		const d = getOwnPropertyDescriptor(o, 'length');
		if (d !== undefined && d.writable === false && typeof d.value === 'number') n = d.value;
	}
	if (n > MAX_ARRAY) {
		throw new RangeError('listing the keys of a string of ' + n + ' characters exceeds the sandbox limit of ' + MAX_ARRAY);
	}
};
for (const [obj, name] of [[Object, 'keys'], [Object, 'values'], [Object, 'entries'],
	[Object, 'getOwnPropertyNames'], [Object, 'getOwnPropertyDescriptors'], [Reflect, 'ownKeys']]) {
	const orig = obj[name];
	replace(obj, name, {
		guarded(o) {
			checkStringKeys(o);
			return apply(orig, obj, [o]);
		}
	}.guarded);
}
const origAssign = replace(Object, 'assign', {
	assign(target, ...sources) {
		for (let i = 0; i < sources.length; i++) checkStringKeys(sources[i]);
		return apply(origAssign, Object, [target, ...sources]);
	}
}.assign);

// ---- RegExp ----

// Making a regular expression compiles its pattern in one Go call, which copies a
// counted repetition's operand once per count; patterns are checked first (see
// regexpsize.go; the literals of a condition are checked when it is compiled). The
// constructor, compile, and the String methods that make a regular expression from
// a string convert the pattern once and hand goja the checked text.
const OrigRegExp = RegExp;
const sourceGetter = getOwnPropertyDescriptor(RP, 'source').get;
const isRealRegExp = (v) => {
	if (v === RP || v === null || typeof v !== 'object') return false;
	try {
		apply(sourceGetter, v, []);
		return true;
	} catch (_) {
		return false;
	}
};
const isRegExpLike = (v) => {
	if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return false;
	const m = v[Symbol.match];
	return m !== undefined ? !!m : isRealRegExp(v);
};
const checkedPattern = (p) => {
	if (!regexpSizeOK(p)) {
		throw new SyntaxError('Invalid regular expression: the pattern is too large for a condition (more than ' +
			MAX_REGEXP + ' once its counted repetitions are expanded)');
	}
	return p;
};
// patternArgs returns what to hand goja's constructor for pattern and flags.
const patternArgs = (pattern, flags) => {
	if (isRealRegExp(pattern)) return [pattern, flags]; // its source was checked
	if (isRegExpLike(pattern)) {
		return [checkedPattern(`${pattern.source}`), flags === undefined ? `${pattern.flags}` : `${flags}`];
	}
	return [checkedPattern(pattern === undefined ? '' : `${pattern}`), flags === undefined ? undefined : `${flags}`];
};
const RegExpCtor = function RegExp(pattern, flags) {
	if (new.target === undefined && flags === undefined && isRegExpLike(pattern) && pattern.constructor === RegExpCtor) {
		return pattern;
	}
	return construct(OrigRegExp, patternArgs(pattern, flags), new.target === undefined ? RegExpCtor : new.target);
};
RegExpCtor.prototype = RP;
defineProperty(RegExpCtor, 'length', { value: 2 });
for (const key of ownKeys(OrigRegExp)) {
	if (key !== 'prototype' && key !== 'length' && key !== 'name') {
		defineProperty(RegExpCtor, key, getOwnPropertyDescriptor(OrigRegExp, key));
	}
}
defineProperty(RP, 'constructor', { value: RegExpCtor, writable: true, enumerable: false, configurable: true });
defineProperty(G, 'RegExp', { value: RegExpCtor, writable: true, enumerable: false, configurable: true });
const origCompile = replace(RP, 'compile', {
	compile(pattern, flags) {
		return apply(origCompile, this, patternArgs(pattern, flags));
	}
}.compile);
for (const [name, sym] of [['match', Symbol.match], ['matchAll', Symbol.matchAll], ['search', Symbol.search]]) {
	replace(SP, name, {
		guarded(regexp) {
			if (this === undefined || this === null) {
				throw new TypeError('String.prototype.' + name + ' called on null or undefined');
			}
			if (regexp !== undefined && regexp !== null) {
				if (name === 'matchAll' && isRegExpLike(regexp) && !apply(origIncludes, `${regexp.flags}`, ['g'])) {
					throw new TypeError('String.prototype.matchAll called with a non-global RegExp argument');
				}
				const method = regexp[sym];
				if (method !== undefined && method !== null) return apply(method, regexp, [this]);
			}
			const s = `${this}`;
			const rx = new RegExpCtor(regexp === undefined ? '' : `${regexp}`, name === 'matchAll' ? 'g' : undefined);
			return apply(rx[sym], rx, [s]);
		}
	}.guarded);
}
// exec and test are where every match happens (the other methods call exec, since
// replacing it turns off goja's fast paths, which loop over matches in Go). Being
// JavaScript, they let the interrupt in between two matches. One match is bounded by
// RegexpMatchTimeout, and goja reports a match that ran out of time as no match: a
// miss that took that long is turned into an error. regexp2 measures its timeout on
// a clock that a goroutine advances, which on a machine loaded beyond its cores can
// lag and then jump, ending a match early; a miss that took a noticeable time but
// less than the timeout is therefore run once more before it is believed.
const SUSPECT_MS = 2;
const tooSlow = () => new RangeError('a regular expression ran longer than ' + RX_LIMIT_MS +
	'ms on one match; patterns with nested quantifiers such as (a+)+ backtrack exponentially');
const timedMatch = (orig, rx, args, miss) => {
	const lastIndex = rx.lastIndex;
	for (let attempt = 0; ; attempt++) {
		const t0 = now();
		const r = apply(orig, rx, args);
		const took = now() - t0;
		if (r !== miss || took < SUSPECT_MS) return r;
		if (took >= RX_LIMIT_MS) throw tooSlow();
		if (attempt > 0) return r;
		rx.lastIndex = lastIndex;
	}
};
const origExec = replace(RP, 'exec', {
	exec(string) {
		return timedMatch(origExec, this, [string], null);
	}
}.exec);
const origTest = replace(RP, 'test', {
	test(string) {
		return timedMatch(origTest, this, [string], false);
	}
}.test);
const regexpGuard = (key, needsCheck) => {
	const orig = RP[key];
	defineProperty(RP, key, {
		value: {
			[key](string, ...rest) {
				const s = `${string}`;
				if (needsCheck(this, rest)) checkMatchSubject(s);
				return apply(orig, this, [s, ...rest]);
			}
		}[key], writable: true, enumerable: false, configurable: true
	});
};
regexpGuard(Symbol.match, (rx) => isGlobalRegExp(rx));
regexpGuard(Symbol.matchAll, () => true);
regexpGuard(Symbol.split, () => true);
const origRegExpReplace = RP[Symbol.replace];
defineProperty(RP, Symbol.replace, {
	value: {
		[Symbol.replace](string, replaceValue) {
			const s = `${string}`;
			if (isGlobalRegExp(this)) checkMatchSubject(s);
			return boundedReplace((rv) => apply(origRegExpReplace, this, [s, rv]), s, replaceValue, this);
		}
	}[Symbol.replace], writable: true, enumerable: false, configurable: true
});
