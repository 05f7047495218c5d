import { type ReactNode, useId } from "react";

/**
 * A label and its control side by side, tied by id rather than by nesting: the control's
 * accessible name is the label's text alone (a wrapping label would add the options' text).
 */
export function Field({
  label,
  className,
  children,
}: {
  label: ReactNode;
  className?: string;
  children: (id: string) => ReactNode;
}) {
  const id = useId();
  return (
    <div className={`ia-field${className ? ` ${className}` : ""}`}>
      <label htmlFor={id}>{label}</label>
      {children(id)}
    </div>
  );
}
