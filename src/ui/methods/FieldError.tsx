/** A value the store refused, shown at its field (the store keeps the last valid value). */
export function FieldError({ message }: { message?: string }) {
  return message ? (
    <small className="field-error" role="alert" style={{ color: '#b42318', flexBasis: '100%' }}>
      {message}
    </small>
  ) : null;
}
