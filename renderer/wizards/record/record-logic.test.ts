import { describe, expect, it } from 'vitest';
import type { BrowseNode } from '../../../shared/recording';
import { SourceSettingsSchema } from '../../../shared/recording';
import {
  advancedInUse,
  blankConnectForm,
  columnNameProblem,
  connectProblem,
  defaultRecordingName,
  defaultSourceName,
  formatInterval,
  formOfSettings,
  hostOf,
  intervalNote,
  parseDecimal,
  parseDuration,
  parseIntervalSeconds,
  pickNode,
  renameTag,
  sameSettings,
  settingsOf,
  treeFromPaths,
  uniqueColumnNames,
  unpick,
  urlProblem,
  valuesPerHour,
  whyNotPickable,
  type PickedTag,
} from './record-logic';

const node = (path: string, over: Partial<BrowseNode> = {}): BrowseNode => ({
  id: `ns=1;s=${path.replace(/\//g, '.')}`,
  name: path.split('/').at(-1)!,
  path,
  kind: 'variable',
  hasChildren: false,
  dataType: 'Double',
  numeric: true,
  unit: null,
  value: 1.5,
  ...over,
});

const auto = (path: string): Pick<PickedTag, 'id' | 'path' | 'browseName' | 'name' | 'edited'> => ({ id: path, path, browseName: path.split('/').at(-1)!, name: '', edited: false });

describe('column names from picked tags', () => {
  it('uses the browse name while it is unique', () => {
    expect(uniqueColumnNames([auto('Objects/Pump1/Temperature'), auto('Objects/Pump1/Pressure')])).toEqual(['Temperature', 'Pressure']);
  });

  it('adds as much of the path as makes two alike names differ, on both of them', () => {
    expect(uniqueColumnNames([auto('Objects/Pump1/Temperature'), auto('Objects/Pump2/Temperature'), auto('Objects/Pump1/Speed')])).toEqual([
      'Pump1.Temperature',
      'Pump2.Temperature',
      'Speed',
    ]);
    // Alike two levels up: the third level decides.
    expect(uniqueColumnNames([auto('Line1/Pump/Temperature'), auto('Line2/Pump/Temperature')])).toEqual(['Line1.Pump.Temperature', 'Line2.Pump.Temperature']);
  });

  it('counts names alike whatever their case, and numbers what the path cannot tell apart', () => {
    expect(uniqueColumnNames([auto('A/flow'), auto('B/Flow')])).toEqual(['A.flow', 'B.Flow']);
    expect(uniqueColumnNames([auto('Flow'), auto('Flow')])).toEqual(['Flow', 'Flow 2']);
  });

  it('keeps a typed name exactly and moves an automatic one aside', () => {
    const typed = { id: 'x', path: 'Objects/Pump1/Speed', browseName: 'Speed', name: 'Temperature', edited: true };
    expect(uniqueColumnNames([auto('Objects/Pump1/Temperature'), typed])).toEqual(['Temperature 2', 'Temperature']);
  });

  it("prefers the source's own name, and falls back to the tag id when a node has neither name nor path", () => {
    // An MQTT field: the path ends in the field, the broker's driver names it.
    expect(uniqueColumnNames([{ id: 'plant/pump1#motor.current', path: 'plant/pump1/motor.current', browseName: 'motor current', name: '', edited: false }])).toEqual(['motor current']);
    expect(uniqueColumnNames([{ id: 'plant/pump1#motor.current', path: '', browseName: '', name: '', edited: false }])).toEqual(['plant/pump1#motor.current']);
  });

  it('renames on pick and unpick, and clearing a typed name gives the automatic one back', () => {
    let tags = pickNode([], node('Objects/Pump1/Temperature'));
    expect(tags.map((t) => t.name)).toEqual(['Temperature']);
    tags = pickNode(tags, node('Objects/Pump2/Temperature'));
    expect(tags.map((t) => t.name)).toEqual(['Pump1.Temperature', 'Pump2.Temperature']);
    // Picking the same node again adds nothing.
    expect(pickNode(tags, node('Objects/Pump2/Temperature'))).toHaveLength(2);
    tags = renameTag(tags, tags[0]!.id, 'Inlet temperature');
    expect(tags.map((t) => [t.name, t.edited])).toEqual([
      ['Inlet temperature', true],
      ['Temperature', false],
    ]);
    tags = renameTag(tags, tags[0]!.id, '  ');
    expect(tags.map((t) => t.name)).toEqual(['Pump1.Temperature', 'Pump2.Temperature']);
    tags = unpick(tags, tags[1]!.id);
    expect(tags.map((t) => t.name)).toEqual(['Temperature']);
  });

  it('says when names cannot be columns', () => {
    expect(columnNameProblem([{ name: 'A' }, { name: 'B' }])).toBeNull();
    expect(columnNameProblem([{ name: 'A' }, { name: ' ' }])).toBe('Every tag needs a column name.');
    expect(columnNameProblem([{ name: 'Flow' }, { name: 'flow' }])).toBe('Two tags would both be the column "flow": rename one.');
  });
});

describe('what can be picked', () => {
  it('greys out text and says why; numbers and on/off values are fine', () => {
    expect(whyNotPickable(node('P/Temperature'))).toBeNull();
    expect(whyNotPickable(node('P/Running', { dataType: 'Boolean', numeric: true }))).toBeNull();
    expect(whyNotPickable(node('P/Mode', { dataType: 'String', numeric: false }))).toBe('Holds text: only numbers and on/off values can be recorded.');
    expect(whyNotPickable(node('P/Status', { dataType: 'json', numeric: false }))).toBe('Holds a JSON object: only numbers and on/off values can be recorded.');
    expect(whyNotPickable(node('P', { kind: 'folder', numeric: false, dataType: null }))).toBeNull();
  });

  it('builds the MQTT tree from heard topics: folders per level, a value beside its subtopics', () => {
    const tree = treeFromPaths([
      node('plant/pump1/temp', { id: 'plant/pump1/temp' }),
      node('plant/pump1/motor/current', { id: 'plant/pump1#motor.current' }),
      node('plant/pump2', { id: 'plant/pump2' }),
      node('plant/pump2/temp', { id: 'plant/pump2/temp' }),
      // Heard deeper first, then the topic itself.
      node('plant/pump3/temp', { id: 'plant/pump3/temp' }),
      node('plant/pump3', { id: 'plant/pump3' }),
      node('other', { id: 'other', numeric: false, dataType: 'String' }),
    ]);
    expect(tree.map((t) => t.name)).toEqual(['plant', 'other']);
    const plant = tree[0]!;
    expect(plant.children.map((c) => c.name)).toEqual(['pump1', 'pump2', 'pump3']);
    const pump1 = plant.children[0]!;
    expect(pump1.node).toBeNull();
    expect(pump1.children.map((c) => c.name)).toEqual(['motor', 'temp']);
    expect(pump1.children[0]!.children[0]!.node?.id).toBe('plant/pump1#motor.current');
    const pump2 = plant.children[1]!;
    // "plant/pump2" published a value and has a subtopic: one item holds both.
    expect(pump2.node?.id).toBe('plant/pump2');
    expect(pump2.children.map((c) => c.node?.id)).toEqual(['plant/pump2/temp']);
    const pump3 = plant.children[2]!;
    expect(pump3.node?.id).toBe('plant/pump3');
    expect(pump3.children.map((c) => c.node?.id)).toEqual(['plant/pump3/temp']);
    // Keys stay unique, so each row is its own.
    const keys: string[] = [];
    const walk = (items: typeof tree) => items.forEach((i) => (keys.push(i.key), walk(i.children)));
    walk(tree);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe('connect', () => {
  it('finds the host in every kind of address', () => {
    expect(hostOf('opc.tcp://192.168.0.10:4840/UA/Server')).toBe('192.168.0.10');
    expect(hostOf('mqtt://user:pw@broker.local:1883')).toBe('broker.local');
    expect(hostOf('mqtts://[::1]:8883')).toBe('::1');
    expect(hostOf('wss://gw.plant.example/mqtt')).toBe('gw.plant.example');
    expect(hostOf('broker.local')).toBe('');
  });

  it('names a new source after its host, apart from the saved ones', () => {
    const f = { kind: 'opcua' as const, url: 'opc.tcp://plc-7:4840' };
    expect(defaultSourceName(f, [])).toBe('plc-7');
    expect(defaultSourceName(f, ['PLC-7', 'plc-7 2'])).toBe('plc-7 3');
    expect(defaultSourceName({ kind: 'mqtt', url: '' }, [])).toBe('MQTT broker');
  });

  it('explains a wrong address with the right example', () => {
    expect(urlProblem('opcua', '')).toBe("Enter the server's address, e.g. opc.tcp://192.168.0.10:4840.");
    expect(urlProblem('opcua', 'http://plc:4840')).toBe('An OPC UA address starts with opc.tcp://, e.g. opc.tcp://192.168.0.10:4840.');
    expect(urlProblem('mqtt', 'opc.tcp://plc:4840')).toBe('An MQTT address starts with mqtt://, mqtts://, ws://, wss://, e.g. mqtt://broker.local:1883.');
    expect(urlProblem('mqtt', 'mqtt://')).toMatch(/no host name/);
    expect(urlProblem('opcua', ' opc.tcp://127.0.0.1:4840 ')).toBeNull();
  });

  it('asks for a user name and password only with password sign-in, and not for a saved password', () => {
    const f = { ...blankConnectForm('opcua'), url: 'opc.tcp://plc:4840' };
    expect(connectProblem(f, '', false)).toBeNull();
    const pw = { ...f, auth: 'password' as const };
    expect(connectProblem(pw, '', false)).toBe('Enter the user name.');
    expect(connectProblem({ ...pw, username: 'op' }, '', false)).toBe('Enter the password.');
    expect(connectProblem({ ...pw, username: 'op' }, '', true)).toBeNull();
    expect(connectProblem({ ...f, auth: 'certificate' }, '', false)).toMatch(/certificate file/);
  });

  it('sends only the chosen kind, keeps None with None, and parses as the contract says', () => {
    const opc = settingsOf({ ...blankConnectForm('opcua'), url: ' opc.tcp://plc:4840 ', topic: 'ignored', caFile: '/x.pem', username: 'op' });
    expect(opc).toEqual({ kind: 'opcua', url: 'opc.tcp://plc:4840', securityMode: 'none', securityPolicy: 'None', auth: 'anonymous' });
    expect(SourceSettingsSchema.parse(opc)).toEqual(opc);
    const signed = settingsOf({ ...blankConnectForm('opcua'), url: 'opc.tcp://plc:4840', securityMode: 'signAndEncrypt', securityPolicy: 'None', auth: 'password', username: ' op ' });
    expect(signed).toMatchObject({ securityMode: 'signAndEncrypt', securityPolicy: 'Basic256Sha256', username: 'op' });
    const mqtt = settingsOf({ ...blankConnectForm('mqtt'), url: 'mqtts://b:8883', topic: '', mqttAuth: 'password', username: 'gw', caFile: ' /ca.pem ' });
    expect(mqtt).toEqual({ kind: 'mqtt', url: 'mqtts://b:8883', topic: '#', payload: 'json', rejectUnauthorized: true, rebirth: false, username: 'gw', caFile: '/ca.pem' });
    expect(SourceSettingsSchema.parse(mqtt)).toEqual(mqtt);
  });

  it('asks Sparkplug edge nodes for their birth again only when ticked, and only for Sparkplug B', () => {
    const blank = blankConnectForm('mqtt');
    expect(blank.rebirth).toBe(false);
    const sparkplug = { ...blank, url: 'mqtt://b:1883', topic: 'spBv1.0/Plant/#', payload: 'sparkplug' as const };
    expect(settingsOf(sparkplug)).toMatchObject({ payload: 'sparkplug', rebirth: false });
    const ticked = settingsOf({ ...sparkplug, rebirth: true });
    expect(ticked).toMatchObject({ payload: 'sparkplug', rebirth: true });
    expect(SourceSettingsSchema.parse(ticked)).toEqual(ticked);
    // A box ticked for Sparkplug and left behind when switching to JSON is not sent.
    expect(settingsOf({ ...sparkplug, rebirth: true, payload: 'json' })).toMatchObject({ payload: 'json', rebirth: false });
    // Read back from a saved source, and part of what makes two sources the same.
    expect(formOfSettings(ticked).rebirth).toBe(true);
    expect(sameSettings(settingsOf(formOfSettings(ticked)), ticked)).toBe(true);
    expect(sameSettings(ticked, settingsOf(sparkplug))).toBe(false);
    // Settings saved before the option existed read as off.
    const old = SourceSettingsSchema.parse({ kind: 'mqtt', url: 'mqtt://b:1883', topic: 'spBv1.0/Plant/#', payload: 'sparkplug' });
    expect(old).toMatchObject({ rebirth: false });
    expect(sameSettings(old, settingsOf(sparkplug))).toBe(true);
  });

  it('reads a saved source back into the form unchanged', () => {
    for (const s of [
      SourceSettingsSchema.parse({ kind: 'opcua', url: 'opc.tcp://plc:4840', securityMode: 'sign', securityPolicy: 'Aes128_Sha256_RsaOaep', auth: 'password', username: 'op' }),
      SourceSettingsSchema.parse({ kind: 'mqtt', url: 'mqtt://b:1883', topic: 'plant/#', payload: 'number', username: 'gw', rejectUnauthorized: false }),
      SourceSettingsSchema.parse({ kind: 'mqtt', url: 'mqtt://b:1883', topic: 'spBv1.0/#', payload: 'sparkplug', rebirth: true }),
    ]) {
      expect(sameSettings(settingsOf(formOfSettings(s)), s)).toBe(true);
    }
    expect(sameSettings(SourceSettingsSchema.parse({ kind: 'mqtt', url: 'mqtt://b:1883' }), SourceSettingsSchema.parse({ kind: 'mqtt', url: 'mqtt://c:1883' }))).toBe(false);
  });
});

describe('how long', () => {
  it('writes intervals as a person says them', () => {
    expect([100, 1000, 1500, 5000, 60_000, 90_000, 3_600_000, 5_400_000].map(formatInterval)).toEqual(['100 ms', '1 s', '1.5 s', '5 s', '1 min', '1 min 30 s', '1 h', '1 h 30 min']);
  });

  it('reads a typed interval in seconds, with a point or a comma, within the limits', () => {
    expect(parseDecimal('2,5')).toBe(2.5);
    expect(parseDecimal('.5')).toBe(0.5);
    expect(parseDecimal('1e3')).toBeNull();
    expect(parseIntervalSeconds('0.5')).toEqual({ ms: 500 });
    expect(parseIntervalSeconds('2,5')).toEqual({ ms: 2500 });
    expect(parseIntervalSeconds('0.05')).toEqual({ error: 'The interval must be from 100 ms to 1 h.' });
    expect(parseIntervalSeconds('abc')).toEqual({ error: 'Enter the interval in seconds, e.g. 2 or 0.5 (from 100 ms to 1 h).' });
  });

  it('reads a duration in minutes, hours or days, at least a minute and at most 366 days', () => {
    expect(parseDuration('30', 'minutes')).toEqual({ ms: 1_800_000 });
    expect(parseDuration('1,5', 'hours')).toEqual({ ms: 5_400_000 });
    expect(parseDuration('2', 'days')).toEqual({ ms: 172_800_000 });
    expect(parseDuration('0.5', 'minutes')).toEqual({ error: 'Record for at least a minute.' });
    expect(parseDuration('400', 'days')).toEqual({ error: 'Record for at most 366 days; choose "Until I stop" for longer.' });
    expect(parseDuration('', 'hours')).toEqual({ error: 'Enter how many hours to record, e.g. 30.' });
  });

  it('explains the interval per kind of source', () => {
    expect(intervalNote('opcua', 1000)).toBe('The server is asked for a new value of each tag every 1 s; it is also the time grid of a dataset saved from the recording.');
    expect(intervalNote('mqtt', 5000)).toBe('MQTT records every message as it arrives. 5 s is the time grid a dataset saved from the recording gets unless you choose another.');
    expect(valuesPerHour('opcua', 3, 1000)).toBe(10_800);
    expect(valuesPerHour('mqtt', 3, 1000)).toBeNull();
  });

  it('names a recording after its source and local start time', () => {
    expect(defaultRecordingName('Pump station', new Date(2025, 2, 4, 8, 5))).toBe('Pump station 2025-03-04 08:05');
    expect(defaultRecordingName(' ', new Date(2025, 11, 31, 23, 59))).toBe('Recording 2025-12-31 23:59');
  });
});

describe('the Advanced section of Connect', () => {
  it('opens by itself only when a saved source uses one of its settings', () => {
    expect(advancedInUse(blankConnectForm('opcua'))).toBe(false);
    expect(advancedInUse(blankConnectForm('mqtt'))).toBe(false);
    expect(advancedInUse({ ...blankConnectForm('opcua'), securityMode: 'signAndEncrypt' })).toBe(true);
    expect(advancedInUse({ ...blankConnectForm('opcua'), auth: 'certificate' })).toBe(true);
    // A password is under Sign in, not Advanced.
    expect(advancedInUse({ ...blankConnectForm('opcua'), auth: 'password', username: 'op' })).toBe(false);
    const sparkplug = { ...blankConnectForm('mqtt'), payload: 'sparkplug' as const };
    expect(advancedInUse(sparkplug)).toBe(false);
    expect(advancedInUse({ ...sparkplug, rebirth: true })).toBe(true);
    // Rebirth left ticked from Sparkplug means nothing for JSON: not a reason to open.
    expect(advancedInUse({ ...sparkplug, payload: 'json', rebirth: true })).toBe(false);
    expect(advancedInUse({ ...blankConnectForm('mqtt'), caFile: '/ca.pem' })).toBe(true);
    expect(advancedInUse({ ...blankConnectForm('mqtt'), rejectUnauthorized: false })).toBe(true);
    expect(advancedInUse(formOfSettings(settingsOf({ ...sparkplug, url: 'mqtt://b:1883', rebirth: true })))).toBe(true);
  });
});
