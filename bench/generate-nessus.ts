// Writes a synthetic Nessus v2 export: HOSTS ReportHosts with ITEMS
// ReportItems in total, content shaped like real exports (entity references,
// CVEs, CVSS v3 vectors, multi-line plugin output). Deterministic.

import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

const WORDS =
  'remote host service version vulnerable affected allows attacker execute arbitrary code denial certificate cipher protocol server client request response update patch configuration'.split(
    ' ',
  );

function words(seed: number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += (i ? ' ' : '') + WORDS[(seed * 31 + i * 7) % WORDS.length];
  return s;
}

export async function generateNessus(file: string, hosts: number, items: number): Promise<void> {
  const out = createWriteStream(file, { highWaterMark: 1024 * 1024 });
  const write = async (s: string) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  await write(
    '<?xml version="1.0" ?>\n<NessusClientData_v2>\n<Policy><policyName>bench</policyName></Policy>\n<Report name="bench" xmlns:cm="http://www.nessus.org/cm">\n',
  );
  const perHost = Math.ceil(items / hosts);
  let n = 0;
  for (let h = 0; h < hosts && n < items; h++) {
    const ip = `10.${(h >> 16) & 255}.${(h >> 8) & 255}.${h & 255}`;
    await write(
      `<ReportHost name="${ip}"><HostProperties><tag name="host-ip">${ip}</tag><tag name="operating-system">Linux Kernel 5.x</tag></HostProperties>\n`,
    );
    for (let i = 0; i < perHost && n < items; i++, n++) {
      const plugin = 10000 + ((h * 7 + i * 13) % 90000);
      const sev = (plugin + i) % 5;
      const port = [22, 80, 443, 3389, 8080, 0][i % 6];
      const cve = `CVE-20${10 + (plugin % 14)}-${1000 + (plugin % 9000)}`;
      await write(
        `<ReportItem port="${port}" svc_name="www" protocol="tcp" severity="${sev}" pluginID="${plugin}-${i}" pluginName="Synthetic check ${plugin} &quot;${words(plugin, 3)}&quot;" pluginFamily="General">\n` +
          `<description>${words(plugin, 22)} &amp; ${words(i, 6)}.</description>\n` +
          `<solution>Upgrade to the latest ${words(plugin + 1, 4)} &lt;see vendor&gt;.</solution>\n` +
          `<risk_factor>${['None', 'Low', 'Medium', 'High', 'Critical'][sev]}</risk_factor>\n` +
          `<cvss3_base_score>${(sev * 2.2).toFixed(1)}</cvss3_base_score>\n` +
          `<cvss3_vector>CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H</cvss3_vector>\n` +
          `<cve>${cve}</cve>\n` +
          `<plugin_output>\n  Port ${port}: ${words(i + h, 10)}\n  Version : 1.${i % 10}.${h % 100}\n</plugin_output>\n` +
          `</ReportItem>\n`,
      );
    }
    await write('</ReportHost>\n');
  }
  await write('</Report>\n</NessusClientData_v2>\n');
  out.end();
  await once(out, 'finish');
}
