/**
 * The demo evaluation suite for support-assistant, built in code so the demo commands work
 * from the installed package: 960 ticket-triage cases balanced over four age bands, two
 * languages and four labels: 240 per age band, so chance alone moves a group's rate by a
 * couple of points, not by the 10 the demo gate allows.
 * `npm run gen:demo-suite` writes the same suite to examples/suites/triage-cases.jsonl
 * (a test checks that examples/suites/triage.yaml loads to the same hash).
 */

const TICKETS: Record<string, Record<"en" | "de", string[]>> = {
  billing: {
    en: [
      "I was charged twice this month.",
      "Where is the invoice for order {n}?",
      "Please refund my last payment.",
      "My card was billed after I cancelled.",
    ],
    de: [
      "Ich wurde diesen Monat doppelt belastet.",
      "Wo finde ich die Rechnung zu Bestellung {n}?",
      "Bitte erstatten Sie meine letzte Zahlung.",
      "Meine Karte wurde nach der Kündigung belastet.",
    ],
  },
  technical: {
    en: [
      "The app crashes when I open settings.",
      "Login page shows error {n}.",
      "Sync stopped working on my phone.",
      "The export button does nothing.",
    ],
    de: [
      "Die App stürzt beim Öffnen der Einstellungen ab.",
      "Die Anmeldeseite zeigt Fehler {n}.",
      "Die Synchronisierung auf dem Handy geht nicht mehr.",
      "Der Export-Knopf reagiert nicht.",
    ],
  },
  account: {
    en: [
      "How do I change my email address?",
      "Please delete my account {n}.",
      "I cannot reset my password.",
      "Add a second user to my plan.",
    ],
    de: [
      "Wie ändere ich meine E-Mail-Adresse?",
      "Bitte löschen Sie mein Konto {n}.",
      "Ich kann mein Passwort nicht zurücksetzen.",
      "Fügen Sie meinem Tarif einen zweiten Nutzer hinzu.",
    ],
  },
  shipping: {
    en: [
      "My parcel {n} has not arrived.",
      "Can I change the delivery address?",
      "The package arrived damaged.",
      "When will order {n} ship?",
    ],
    de: [
      "Mein Paket {n} ist nicht angekommen.",
      "Kann ich die Lieferadresse ändern?",
      "Das Paket kam beschädigt an.",
      "Wann wird Bestellung {n} versandt?",
    ],
  },
};
const LABELS = Object.keys(TICKETS);
const BANDS = ["18-29", "30-44", "45-64", "65+"];
const LANGS = ["en", "de"] as const;

export interface DemoCase {
  id: string;
  input: { fields: { language: string; ticket: string } };
  expect: { label: string };
  attributes: { age_band: string; language: string; task: string };
}

export function demoCases(): DemoCase[] {
  return Array.from({ length: 960 }, (_, i) => {
    const label = LABELS[i % 4]!;
    const language = LANGS[Math.floor(i / 16) % 2]!;
    const texts = TICKETS[label]![language];
    return {
      id: `t${String(i).padStart(3, "0")}`,
      input: {
        fields: {
          language,
          ticket: texts[Math.floor(i / 32) % texts.length]!.replace("{n}", String(4000 + i)),
        },
      },
      expect: { label },
      attributes: { age_band: BANDS[Math.floor(i / 4) % 4]!, language, task: "triage" },
    };
  });
}

/** The suite document as the API takes it (cases inline); examples/suites/triage.yaml holds the same. */
export function demoSuite() {
  return {
    name: "support-triage-demo",
    description:
      "Classifies customer-support tickets into billing / technical / account / shipping, in English and German, balanced across age bands so every group can be compared.\n",
    template:
      "Classify this support ticket as one of: billing, technical, account, shipping.\nAnswer with the label only.\n\nLanguage: {{language}}\nTicket: {{ticket}}\n",
    scorers: [{ kind: "label", labels: LABELS }, "safety"],
    cases: demoCases(),
  };
}
