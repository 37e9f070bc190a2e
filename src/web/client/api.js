/** JSON calls to kiln's API from the pages (the session cookie authenticates). */
export function post(url, body) {
  return fetch(url, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body || {}),
  }).then((response) =>
    response.json().then((data) => {
      if (!response.ok) throw new Error(data.error || response.statusText);
      return data;
    }),
  );
}
