import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SCAN_LIMIT, scriptOf } from "./script.ts";

describe("the script of a text", () => {
  test("each script by its letters (samples from the Unicode blocks' own names and greetings)", () => {
    const cases: [string, string][] = [
      ["Where is my order?", "latin"],
      ["Où est ma commande ? Ça dépend.", "latin"],
      ["Straße, Ærø, Łódź, Nguyễn", "latin"],
      ["Где мой заказ?", "cyrillic"],
      ["Πού είναι η παραγγελία μου;", "greek"],
      ["أين طلبي؟", "arabic"],
      ["איפה ההזמנה שלי?", "hebrew"],
      ["मेरा ऑर्डर कहाँ है?", "devanagari"],
      ["我的订单在哪里？", "cjk"],
      ["注文はどこですか？", "cjk"], // kanji and kana
      ["カタカナ", "cjk"],
      ["내 주문은 어디에 있나요?", "hangul"],
      ["คำสั่งซื้อของฉันอยู่ที่ไหน", "thai"],
      ["Բարեւ", "other"], // Armenian
      ["ሰላም", "other"], // Ethiopic
      ["12345 + 678 = ?!", "none"],
      ["🙂🙂 👍", "none"],
      ["", "none"],
    ];
    for (const [text, want] of cases) assert.equal(scriptOf(text), want, text);
  });

  test("the majority of letters wins; digits, marks of punctuation and symbols do not count", () => {
    assert.equal(scriptOf("Привет, how are you doing today?"), "latin");
    assert.equal(scriptOf("Order 12345678901234567890: где мой заказ?"), "cyrillic");
    assert.equal(scriptOf("× ÷ ± 42"), "none", "Latin-1 symbols are no letters");
    assert.equal(scriptOf("𠀀𠀁𠀂 ab"), "cjk", "letters outside the BMP count once each (surrogate pairs)");
    assert.equal(scriptOf("ab 𠀀𠀁"), "latin", "a tie goes to the script listed first");
  });

  test("only the first 4,096 characters are read", () => {
    assert.equal(scriptOf(`${"1".repeat(SCAN_LIMIT)}Привет`), "none");
    assert.equal(scriptOf(`${"a".repeat(10)}${"б".repeat(SCAN_LIMIT)}`), "cyrillic");
  });
});
