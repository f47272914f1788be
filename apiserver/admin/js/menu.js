// An actions menu behind a ⋮ button, following the WAI-ARIA menu button pattern:
// Enter, Space or ArrowDown open it on the first item, ArrowUp on the last; arrows,
// Home and End move between items; Escape closes it and returns focus to the button;
// Tab and a click elsewhere close it.

import { h, uid } from './ui.js';

let openMenu = null; // the close function of the menu that is open

document.addEventListener('click', (e) => {
  if (openMenu && !openMenu.root.contains(e.target)) openMenu.close(false);
});
// A fixed menu would drift away from its button: scrolling moves it along, and so
// does a resize.
for (const type of ['scroll', 'resize']) {
  window.addEventListener(type, () => openMenu?.place(), { capture: true, passive: true });
}

/**
 * actionMenu returns a menu button for items [{label, onSelect, danger}]; label names
 * the menu for assistive technology (e.g. "Actions for Orders webhook").
 */
export function actionMenu(label, items) {
  const menuId = uid('menu');
  const btnId = uid('menubtn');
  const button = h('button', {
    type: 'button', class: 'btn btn-icon menu-button', id: btnId,
    'aria-haspopup': 'menu', 'aria-expanded': 'false', 'aria-controls': menuId, 'aria-label': label, title: label,
  }, h('span', { 'aria-hidden': 'true' }, '⋮'));
  const entries = items.map((it) => h('button', {
    type: 'button', role: 'menuitem', tabindex: '-1', class: it.danger ? 'menu-item danger' : 'menu-item',
    'data-action': it.action || null,
  }, it.label));
  const menu = h('div', { class: 'menu', role: 'menu', id: menuId, 'aria-labelledby': btnId, hidden: true }, entries);
  const root = h('div', { class: 'menu-wrap' }, button, menu);

  // The menu is fixed to the viewport, below the button (above it when there is no
  // room), so that a scrolling table around it neither clips nor scrolls it.
  const place = () => {
    const r = button.getBoundingClientRect();
    const m = menu.getBoundingClientRect();
    const below = r.bottom + 4 + m.height <= window.innerHeight;
    menu.style.top = `${Math.max(4, below ? r.bottom + 4 : r.top - 4 - m.height)}px`;
    menu.style.left = `${Math.max(4, Math.min(r.right - m.width, window.innerWidth - m.width - 4))}px`;
  };
  const focusItem = (i) => {
    const n = entries.length;
    entries[((i % n) + n) % n].focus();
  };
  const state = {
    root,
    place,
    close(returnFocus) {
      menu.hidden = true;
      button.setAttribute('aria-expanded', 'false');
      root.classList.remove('open');
      if (openMenu === state) openMenu = null;
      if (returnFocus) button.focus();
    },
  };
  const open = (index) => {
    if (openMenu && openMenu !== state) openMenu.close(false);
    menu.hidden = false;
    place();
    root.classList.add('open');
    button.setAttribute('aria-expanded', 'true');
    openMenu = state;
    focusItem(index);
  };

  button.addEventListener('click', () => {
    if (menu.hidden) open(0);
    else state.close(true);
  });
  button.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      open(0);
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      open(entries.length - 1);
    }
  });
  menu.addEventListener('keydown', (e) => {
    const i = entries.indexOf(document.activeElement);
    switch (e.key) {
      case 'ArrowDown': e.preventDefault(); focusItem(i + 1); break;
      case 'ArrowUp': e.preventDefault(); focusItem(i - 1); break;
      case 'Home': e.preventDefault(); focusItem(0); break;
      case 'End': e.preventDefault(); focusItem(entries.length - 1); break;
      case 'Escape': e.preventDefault(); state.close(true); break;
      case 'Tab': state.close(false); break;
      default: {
        // Type-ahead: the first item starting with the letter typed.
        if (e.key.length === 1 && /\S/.test(e.key)) {
          const k = e.key.toLowerCase();
          const start = i + 1;
          for (let j = 0; j < entries.length; j++) {
            const cand = entries[(start + j) % entries.length];
            if (cand.textContent.trim().toLowerCase().startsWith(k)) {
              cand.focus();
              break;
            }
          }
        }
      }
    }
  });
  entries.forEach((entry, i) => {
    entry.addEventListener('click', () => {
      state.close(true);
      items[i].onSelect();
    });
  });
  return root;
}
