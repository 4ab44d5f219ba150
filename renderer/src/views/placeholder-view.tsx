/** Stand-in for sections that are not built yet: says so plainly instead of showing made-up data. */

/** A "coming in a later release" panel. */
export function PlaceholderView({ title }: { title: string }) {
  return (
    <section className="panel placeholder">
      <h2>{title}</h2>
      <p>{title} is coming in a later release.</p>
    </section>
  );
}
