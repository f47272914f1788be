// Part of the sandbox prelude; see sandbox.go. Originals captured, size checks,
// the concatenation helpers of rewritten conditions, removed and disabled globals.

const G = globalThis;
const OrigArray = Array, OrigString = String;
const { apply, construct, ownKeys } = Reflect;
const { defineProperty, getOwnPropertyDescriptor, getPrototypeOf, freeze } = Object;
const isArray = Array.isArray;
const floor = Math.floor, min = Math.min;
const AP = Array.prototype, SP = String.prototype, FP = Function.prototype, RP = RegExp.prototype;
const origJoin = AP.join, origSlice = SP.slice, origIncludes = SP.includes, origCharCodeAt = SP.charCodeAt;
const origStringify = JSON.stringify, origParse = JSON.parse;
const objectToString = Object.prototype.toString;
const OrigWeakMap = WeakMap, weakGet = WeakMap.prototype.get, weakSet = WeakMap.prototype.set;
const OrigSet = Set, setHas = Set.prototype.has, setAdd = Set.prototype.add, setDelete = Set.prototype.delete;

// ---- limits ----

// MAX_COLLATE bounds the strings localeCompare takes.
const MAX_COLLATE = 10000;

const checkString = (n) => {
	if (n > MAX_STRING) {
		throw new RangeError('string length ' + n + ' exceeds the sandbox limit of ' + MAX_STRING);
	}
};
const checkArray = (n) => {
	if (n > MAX_ARRAY) {
		throw new RangeError('array length ' + n + ' exceeds the sandbox limit of ' + MAX_ARRAY);
	}
};
const toInteger = (v) => {
	v = +v;
	if (v !== v) return 0;
	if (v === Infinity || v === -Infinity) return v;
	return v < 0 ? -floor(-v) : floor(v);
};
const toLength = (v) => {
	v = toInteger(v);
	return v <= 0 ? 0 : min(v, 9007199254740991);
};
const thisString = (self, name) => {
	if (self === undefined || self === null) {
		throw new TypeError('String.prototype.' + name + ' called on null or undefined');
	}
	return `${self}`;
};
const arrayThis = (self, name) => {
	if (!isArray(self)) {
		throw new TypeError('Array.prototype.' + name +
			' works only on arrays in conditions; convert the value with Array.from first');
	}
	checkArray(self.length);
	return self.length;
};
const isGlobalRegExp = (rx) => apply(origIncludes, `${rx.flags}`, ['g']);
const checkMatchSubject = (s) => {
	if (s.length > MAX_ARRAY) {
		throw new RangeError('a global or splitting regular expression runs on strings of at most ' +
			MAX_ARRAY + ' characters in conditions, got ' + s.length);
	}
};

// replace swaps obj[key] for impl, keeping the property's attributes and the
// original's name and length.
const replace = (obj, key, impl) => {
	const orig = obj[key];
	defineProperty(impl, 'name', { value: orig.name });
	defineProperty(impl, 'length', { value: orig.length });
	const d = getOwnPropertyDescriptor(obj, key);
	d.value = impl;
	defineProperty(obj, key, d);
	return orig;
};

// ---- concatenation helpers for rewritten conditions ----

const add = (a, b) => {
	if (typeof a === 'string' && typeof b === 'string') {
		checkString(a.length + b.length);
		return a + b;
	}
	const r = a + b;
	if (typeof r === 'string') checkString(r.length);
	return r;
};
const tpl = (strings, ...subs) => {
	let r = strings[0];
	for (let i = 0; i < subs.length; i++) {
		r = add(r, `${subs[i]}`);
		r = add(r, strings[i + 1]);
	}
	return r;
};
// addp is obj[key] += v with the key converted once, as the compound assignment
// converts it. Strict: assigning to a read-only property throws TypeError.
const addp = (obj, key, v) => {
	if (obj === undefined || obj === null) {
		throw new TypeError('Cannot read properties of ' + obj);
	}
	const k = typeof key === 'symbol' ? key : `${key}`;
	return (obj[k] = add(obj[k], v));
};

// ---- removed and disabled globals ----

for (const name of ['GoError', 'Proxy', 'BigInt', 'WeakRef', 'FinalizationRegistry', 'Atomics',
	'ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray',
	'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'Float16Array', 'Float32Array',
	'Float64Array', 'BigInt64Array', 'BigUint64Array']) {
	delete G[name];
}
const noEval = { eval(_) { throw new EvalError('eval is disabled in conditions'); } }.eval;
defineProperty(G, 'eval', { value: noEval, writable: true, enumerable: false, configurable: true });
// Each function kind's prototype has its own constructor that compiles source text;
// all of them, and the global Function, become throwers that keep instanceof working.
const disable = (proto, name) => {
	const thrower = function () {
		throw new EvalError('the ' + name + ' constructor is disabled in conditions');
	};
	defineProperty(thrower, 'name', { value: name });
	thrower.prototype = proto;
	defineProperty(proto, 'constructor', { value: thrower, writable: true, enumerable: false, configurable: true });
	return thrower;
};
defineProperty(G, 'Function', { value: disable(FP, 'Function'), writable: true, enumerable: false, configurable: true });
disable(getPrototypeOf(function* () { }), 'GeneratorFunction');
disable(getPrototypeOf(async function () { }), 'AsyncFunction');
// Symbol.for registers its key for the life of the runtime, in a registry shared by
// every condition that runs there: a condition could grow it with every event.
replace(Symbol, 'for', {
	for(_) {
		throw new TypeError('Symbol.for is disabled in conditions');
	}
}.for);
