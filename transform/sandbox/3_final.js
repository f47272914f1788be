// Part of the sandbox prelude; see sandbox.go. Guards of JSON and Error, then array
// iteration, the freeze, and the helpers handed back to Go.

// ---- JSON ----

const boxed = (v) => {
	const tag = apply(objectToString, v, []);
	return tag === '[object Number]' || tag === '[object String]' || tag === '[object Boolean]';
};

// stringify runs a replacer on every value, which both makes the serialization
// interruptible and adds up an estimate of the output against the limit; the depth
// of each object is tracked to refuse deep nesting before Go's recursion gets deep.
replace(JSON, 'stringify', {
	stringify(value, replacer, space) {
		let userFn = null, allow = null;
		if (typeof replacer === 'function') {
			userFn = replacer;
		} else if (isArray(replacer)) {
			allow = new OrigSet();
			const n = replacer.length;
			checkArray(n);
			for (let i = 0; i < n; i++) {
				const v = replacer[i];
				if (typeof v === 'string' || typeof v === 'number' || v instanceof OrigString || v instanceof Number) {
					apply(setAdd, allow, [`${v}`]);
				}
			}
		}
		let gap = 0;
		if (typeof space === 'number' || space instanceof Number) gap = min(10, toInteger(space));
		else if (typeof space === 'string' || space instanceof OrigString) gap = min(10, `${space}`.length);
		const depths = new OrigWeakMap();
		let total = 0;
		const counting = function (key, v) {
			if (userFn !== null) v = apply(userFn, this, [key, v]);
			const d = apply(weakGet, depths, [this]) || 0;
			// An estimate of what this member adds: separators, key and value, and
			// its indentation. Escapes may make strings longer, at most sixfold.
			total += (isArray(this) ? 1 : key.length + 4) + gap * d;
			if (typeof v === 'string') total += v.length + 2;
			else if (typeof v === 'number') total += `${v}`.length;
			else total += 5;
			if (v !== null && typeof v === 'object') {
				if (d + 1 > MAX_JSON_DEPTH) throw new RangeError('JSON.stringify: nesting deeper than ' + MAX_JSON_DEPTH);
				if (allow !== null && !isArray(v) && !boxed(v)) {
					const o = {};
					for (const k of allow) {
						const pv = v[k];
						if (pv !== undefined) defineProperty(o, k, { value: pv, writable: true, enumerable: true, configurable: true });
					}
					v = o;
				}
				apply(weakSet, depths, [v, d + 1]);
			}
			checkString(total);
			return v;
		};
		return apply(origStringify, undefined, [value, counting, space]);
	}
}.stringify);
replace(JSON, 'parse', {
	parse(text, reviver) {
		const s = `${text}`;
		if (!jsonDepthOK(s)) throw new SyntaxError('JSON.parse: nesting deeper than ' + MAX_JSON_DEPTH);
		return apply(origParse, undefined, [s, reviver]);
	}
}.parse);

// ---- Error ----

replace(Error.prototype, 'toString', {
	toString() {
		if (this === null || (typeof this !== 'object' && typeof this !== 'function')) {
			throw new TypeError('Error.prototype.toString called on a non-object');
		}
		const name = this.name === undefined ? 'Error' : `${this.name}`;
		const msg = this.message === undefined ? '' : `${this.message}`;
		if (name === '') return msg;
		if (msg === '') return name;
		return add(add(name, ': '), msg);
	}
}.toString);

// Array iteration (for-of, spread, destructuring) is guarded last, since the setup
// above iterates over arrays longer than a small MaxArrayLength.
const origValues = AP.values;
replace(AP, 'values', {
	values() {
		arrayThis(this, 'values');
		return apply(origValues, this, []);
	}
}.values);
defineProperty(AP, Symbol.iterator, { value: AP.values, writable: true, enumerable: false, configurable: true });

// ---- freeze ----

// Instances give access to intrinsics that no global names.
const seen = new OrigSet();
const pending = [G, function* () { }, (function* () { })(), async function () { }, async () => { },
	[][Symbol.iterator](), ''[Symbol.iterator](), new Map().entries(), new Set().values(),
	/x/[Symbol.matchAll](''), Promise.resolve(), noEval, ArrayCtor, OrigArray, RegExpCtor, OrigRegExp, DateCtor, OrigDate];
while (pending.length > 0) {
	const o = pending[pending.length - 1];
	pending.length--;
	if (o === null || (typeof o !== 'object' && typeof o !== 'function') || apply(setHas, seen, [o])) continue;
	apply(setAdd, seen, [o]);
	const proto = getPrototypeOf(o);
	if (proto !== null) pending[pending.length] = proto;
	const keys = ownKeys(o);
	for (let i = 0; i < keys.length; i++) {
		const d = getOwnPropertyDescriptor(o, keys[i]);
		if ('value' in d) {
			pending[pending.length] = d.value;
		} else {
			pending[pending.length] = d.get;
			pending[pending.length] = d.set;
		}
	}
	freeze(o);
}

const describe = (e) => {
	try {
		if (e !== null && (typeof e === 'object' || typeof e === 'function')) {
			const name = e.name, message = e.message;
			if (typeof name === 'string' && typeof message === 'string') {
				const n = apply(origSlice, name, [0, 100]), m = apply(origSlice, message, [0, 300]);
				return m === '' ? n : n + ': ' + m;
			}
			return apply(objectToString, e, []);
		}
		if (typeof e === 'symbol') return 'a symbol';
		return apply(origSlice, `${e}`, [0, 300]);
	} catch (_) {
		return 'a value that cannot be printed';
	}
};

freeze(add);
freeze(tpl);
freeze(addp);
freeze(describe);
return [add, tpl, addp, describe];
