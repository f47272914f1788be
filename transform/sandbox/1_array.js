// Part of the sandbox prelude; see sandbox.go. Guards of Array and of the
// functions that spread an argument list.

// ---- Array ----

const ArrayCtor = function Array(...args) {
	if (args.length === 1 && typeof args[0] === 'number') checkArray(args[0]);
	return construct(OrigArray, args, new.target === undefined ? ArrayCtor : new.target);
};
ArrayCtor.prototype = AP;
defineProperty(ArrayCtor, 'length', { value: 1 });
for (const key of ownKeys(OrigArray)) {
	if (key !== 'prototype' && key !== 'length' && key !== 'name') {
		defineProperty(ArrayCtor, key, getOwnPropertyDescriptor(OrigArray, key));
	}
}
defineProperty(AP, 'constructor', { value: ArrayCtor, writable: true, enumerable: false, configurable: true });
defineProperty(G, 'Array', { value: ArrayCtor, writable: true, enumerable: false, configurable: true });

// Array.from always makes a plain array, even when called on a subclass.
replace(ArrayCtor, 'from', {
	from(items, mapFn, thisArg) {
		if (mapFn !== undefined && typeof mapFn !== 'function') {
			throw new TypeError('Array.from: the map function is not a function');
		}
		if (items === undefined || items === null) {
			throw new TypeError('Array.from needs an array-like or iterable value');
		}
		const out = [];
		let i = 0;
		if (items[Symbol.iterator] !== undefined && items[Symbol.iterator] !== null) {
			for (const v of items) {
				checkArray(i + 1);
				out[i] = mapFn === undefined ? v : apply(mapFn, thisArg, [v, i]);
				i++;
			}
			return out;
		}
		const src = Object(items);
		const n = toLength(src.length);
		checkArray(n);
		for (; i < n; i++) {
			out[i] = mapFn === undefined ? src[i] : apply(mapFn, thisArg, [src[i], i]);
		}
		return out;
	}
}.from);

// Methods that only need the length check: their work and their result are bounded
// by the array's length.
for (const name of ['at', 'copyWithin', 'entries', 'every', 'fill', 'filter', 'find', 'findIndex',
	'findLast', 'findLastIndex', 'forEach', 'includes', 'indexOf', 'keys', 'lastIndexOf', 'map',
	'pop', 'reduce', 'reduceRight', 'reverse', 'shift', 'slice', 'some', 'toReversed', 'with']) {
	if (typeof AP[name] !== 'function') continue;
	const orig = AP[name];
	replace(AP, name, {
		guarded(...args) {
			arrayThis(this, name);
			return apply(orig, this, args);
		}
	}.guarded);
}

// Methods whose result may outgrow the array.
const growing = (name, extra) => {
	const orig = AP[name];
	if (typeof orig !== 'function') return;
	replace(AP, name, {
		guarded(...args) {
			checkArray(arrayThis(this, name) + extra(args));
			return apply(orig, this, args);
		}
	}.guarded);
};
growing('push', (args) => args.length);
growing('unshift', (args) => args.length);
growing('splice', (args) => (args.length > 2 ? args.length - 2 : 0));
growing('toSpliced', (args) => (args.length > 2 ? args.length - 2 : 0));
growing('concat', (args) => {
	let n = 0;
	for (let i = 0; i < args.length; i++) {
		const v = args[i];
		if (isArray(v)) {
			n += v.length;
		} else if (v !== null && typeof v === 'object' && v[Symbol.isConcatSpreadable]) {
			throw new TypeError('Array.prototype.concat spreads only arrays in conditions');
		} else {
			n++;
		}
	}
	return n;
});

// Sorting without a comparator runs entirely in Go, out of reach of the time limit;
// the same order through a JavaScript comparator can be interrupted.
const defaultCompare = (a, b) => {
	const x = `${a}`, y = `${b}`;
	return x < y ? -1 : x > y ? 1 : 0;
};
for (const name of ['sort', 'toSorted']) {
	const orig = AP[name];
	if (typeof orig !== 'function') continue;
	replace(AP, name, {
		guarded(compare) {
			arrayThis(this, name);
			if (compare !== undefined && typeof compare !== 'function') {
				throw new TypeError('Array.prototype.' + name + ': the comparator must be a function');
			}
			return apply(orig, this, [compare === undefined ? defaultCompare : compare]);
		}
	}.guarded);
}

const flatInto = (out, src, depth) => {
	const n = src.length;
	checkArray(n);
	for (let i = 0; i < n; i++) {
		if (!(i in src)) continue;
		const v = src[i];
		if (depth > 0 && isArray(v)) {
			flatInto(out, v, depth - 1);
		} else {
			checkArray(out.length + 1);
			out[out.length] = v;
		}
	}
};
replace(AP, 'flat', {
	flat(depth) {
		arrayThis(this, 'flat');
		let d = depth === undefined ? 1 : toInteger(depth);
		if (d < 0) d = 0;
		const out = [];
		flatInto(out, this, d);
		return out;
	}
}.flat);
replace(AP, 'flatMap', {
	flatMap(fn, thisArg) {
		const n = arrayThis(this, 'flatMap');
		if (typeof fn !== 'function') throw new TypeError('Array.prototype.flatMap: the callback is not a function');
		const out = [];
		for (let i = 0; i < n; i++) {
			if (!(i in this)) continue;
			const v = apply(fn, thisArg, [this[i], i, this]);
			if (isArray(v)) flatInto(out, v, 0); else { checkArray(out.length + 1); out[out.length] = v; }
		}
		return out;
	}
}.flatMap);

// join converts each element once, adding up the lengths, and leaves only the
// concatenation of checked strings to the original. Arrays being joined are
// remembered so that a cycle prints as '', as goja's own join does.
const joining = new OrigSet();
const joinWith = (self, sep, convert) => {
	const n = arrayThis(self, 'join');
	if (apply(setHas, joining, [self])) return '';
	apply(setAdd, joining, [self]);
	try {
		const parts = [];
		let total = 0;
		for (let i = 0; i < n; i++) {
			const v = self[i];
			const s = v === undefined || v === null ? '' : convert(v);
			total += s.length + (i > 0 ? sep.length : 0);
			checkString(total);
			parts[i] = s;
		}
		return apply(origJoin, parts, [sep]);
	} finally {
		apply(setDelete, joining, [self]);
	}
};
replace(AP, 'join', {
	join(separator) {
		return joinWith(this, separator === undefined ? ',' : `${separator}`, (v) => `${v}`);
	}
}.join);
replace(AP, 'toLocaleString', {
	toLocaleString() {
		return joinWith(this, ',', (v) => `${v.toLocaleString()}`);
	}
}.toLocaleString);

// Function.prototype.apply, Reflect.apply and Reflect.construct copy an array-like
// argument list in Go; it must be a bounded array (or be turned into one here).
const argList = (args) => {
	if (args === undefined || args === null) return [];
	if (isArray(args)) {
		checkArray(args.length);
		return args;
	}
	if (typeof args !== 'object' && typeof args !== 'function') {
		throw new TypeError('the argument list must be an array-like object');
	}
	const n = toLength(args.length);
	checkArray(n);
	const out = [];
	for (let i = 0; i < n; i++) out[i] = args[i];
	return out;
};
replace(FP, 'apply', {
	apply(thisArg, args) {
		return apply(this, thisArg, argList(args));
	}
}.apply);
replace(Reflect, 'apply', {
	apply(target, thisArg, args) {
		if (args === undefined || args === null) throw new TypeError('Reflect.apply needs an argument list');
		return apply(target, thisArg, argList(args));
	}
}.apply);
replace(Reflect, 'construct', {
	construct(target, args, ...newTarget) {
		if (args === undefined || args === null) throw new TypeError('Reflect.construct needs an argument list');
		return newTarget.length === 0 ? construct(target, argList(args)) : construct(target, argList(args), newTarget[0]);
	}
}.construct);
